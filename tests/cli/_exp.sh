source "$(dirname "$0")/testlib.bash"
SRC=$(new_bucket ra); DST=$(new_bucket rb); STG=$(new_bucket rb); D2=$(new_bucket rb)
mkdir -p "$WORK/data"
for i in $(seq 1 900); do printf '{"id":%d,"name":"user%d","ok":true}\n%.0s' $(seq 1 40) > "$WORK/data/o$i.json"; done
ferry sync "$WORK/data" "ra:$SRC" --no-progress
date +%T.%N
ferry sync "ra:$SRC" "rb:$DST" --compress --staging "rb:$STG/stage" --archive-size 1MiB --no-progress -v --log-format json 2>&1 | cut -c1-150 | tail -12
date +%T.%N
ferry sync "ra:$SRC" "rb:$D2" --no-progress
