#!/usr/bin/env bash
# One `ferry worker` serving four capabilities' runs at once, all queued with --detach into one
# state store before it starts: a replication pass (every version of a versioned bucket on RGW A
# to one on RGW B), a compressed sync's unpack (packed with --pack-only), a restore from a
# backup, and a cache warm. The worker has --memory 32MiB and --concurrency 8: every run ends
# done with its bytes right, the process's peak RSS stays within --memory + 96 MiB, and the HTTP
# requests it had in flight at once (ferry_http_requests_in_flight_peak, in its --metrics-file)
# never passed --concurrency: the jobs' own listings and catalog reads share the request slots
# of the executor's tasks.
source "$(dirname "$0")/testlib.bash"
STATE=$WORK/state.db
RSRC=$(new_bucket ra); RDST=$(new_bucket rb)
aws_side a s3api put-bucket-versioning --bucket "$RSRC" --versioning-configuration Status=Enabled
aws_side b s3api put-bucket-versioning --bucket "$RDST" --versioning-configuration Status=Enabled
DST=$(new_bucket rb); STG=$(new_bucket rb); BK=$(new_bucket ra); RST=$(new_bucket rb)
CSRC=$(new_bucket ra); CACHE=$(new_bucket rb)
cat >> "$CONF" <<TOML

[[replication.rules]]
id = "all"
destinations = [ { location = "rb:$RDST" } ]
TOML

# what each run moves
mkdir -p "$WORK/v" "$WORK/logs" "$WORK/bk/d" "$WORK/c/hot"
for round in 1 2 3; do
  for k in 1 2 3 4; do
    head -c $((k * 1500000 + round * 1000)) /dev/urandom > "$WORK/v/k$k"
    aws_side a s3 cp --quiet "$WORK/v/k$k" "s3://$RSRC/v/k$k"
  done
done
for i in $(seq 1 40); do seq 1 $((i * 2000)) | sed "s/^/$i,line,/" > "$WORK/logs/l$i.csv"; done
for i in $(seq 1 24); do head -c $((i * 150000)) /dev/urandom > "$WORK/bk/d/f$i"; done
for i in $(seq 1 12); do head -c $((i * 500000)) /dev/urandom > "$WORK/c/hot/o$i"; done
ferry sync "$WORK/c" "ra:$CSRC" --no-progress --no-state >/dev/null 2>&1
ferry backup "$WORK/bk" "ra:$BK/b" --state "$STATE" >/dev/null 2>&1

check "a replication pass queued (--detach)" \
  bash -c "'$FERRY_BIN' --config '$CONF' replicate 'ra:$RSRC' --state '$STATE' --detach 2>'$WORK/q1' && grep -q 'replication run .* queued' '$WORK/q1'"
check "a compressed sync packed, its unpack left to workers (--pack-only)" \
  ferry sync "$WORK/logs" "rb:$DST" --compress --staging "rb:$STG/s" --pack-only \
  --state "$STATE" --no-progress
check "a restore queued (--detach)" \
  bash -c "'$FERRY_BIN' --config '$CONF' restore 'ra:$BK/b' --prefix '' --to 'rb:$RST/r' --state '$STATE' --detach 2>'$WORK/q3' && grep -q 'restore run .* queued (24 objects)' '$WORK/q3'"
check "a cache warm queued (--detach)" \
  bash -c "'$FERRY_BIN' --config '$CONF' cache warm 'ra:$CSRC' --prefix hot/ --cache 'rb:$CACHE' --ttl 1h --state '$STATE' --detach 2>'$WORK/q4' && grep -q 'cache warm run .* queued' '$WORK/q4'"
check "a second --detach of the same replication pass queues nothing more" \
  bash -c "'$FERRY_BIN' --config '$CONF' replicate 'ra:$RSRC' --state '$STATE' --detach 2>&1 | grep -q 'is unfinished (not queued again)'"
check "--detach with --dry-run: exit 2, one line" \
  expect_error 2 '--dry-run cannot be combined with --detach' \
  ferry replicate "ra:$RSRC" --state "$STATE" --detach --dry-run

unfinished() { "$FERRY_BIN" jobs list --state "$STATE" | grep -c -v ': done;' || true; }
"$FERRY_BIN" --config "$CONF" --metrics-file "$WORK/worker.prom" worker --state "$STATE" \
  --memory 32MiB --concurrency 8 2>"$WORK/worker.err" &
WORKER=$!
done_all() { [ "$(unfinished)" = 0 ]; }
check "the one worker serves every run to its end" wait_for 240 done_all
HWM_KB=$(awk '/VmHWM/ {print $2}' "/proc/$WORKER/status")
kill -INT "$WORKER"; wait "$WORKER" || true
"$FERRY_BIN" jobs list --state "$STATE" | sed 's/^/  /'
echo "  worker peak RSS: $((HWM_KB / 1024)) MiB"
check "  its peak RSS within --memory + 96 MiB" [ "$HWM_KB" -le $(((32 + 96) * 1024)) ]
PEAK=$(awk '$1 == "ferry_http_requests_in_flight_peak" {print $2}' "$WORK/worker.prom")
echo "  HTTP requests in flight at most: $PEAK"
check "  requests in flight never above --concurrency (8)" \
  [ -n "$PEAK" ] && [ "${PEAK%.*}" -le 8 ] && [ "${PEAK%.*}" -ge 2 ]
check "  no job dead" bash -c "! '$FERRY_BIN' jobs dlq --state '$STATE' | grep -q ."

# every run's bytes
versions() {  # side bucket -> "key size latest" of every version (sorted)
  aws_side "$1" s3api list-object-versions --bucket "$2" --output json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for v in sorted((v["Key"], v["Size"], v["IsLatest"]) for v in d.get("Versions", [])):
    print(*v)'
}
versions a "$RSRC" > "$WORK/versions.a"; versions b "$RDST" > "$WORK/versions.b"
check "replication: every version of A at B, the latest the same" \
  diff "$WORK/versions.a" "$WORK/versions.b"
check "  12 versions" [ "$(wc -l < "$WORK/versions.b")" = 12 ]
ferry sync "rb:$DST" "$WORK/logs.back" --no-progress --no-state >/dev/null 2>&1
check "compressed sync: unpacked byte for byte" diff -r "$WORK/logs" "$WORK/logs.back"
check "  staging emptied" [ -z "$(ferry ls "rb:$STG")" ]
ferry sync "rb:$RST/r" "$WORK/bk.back" --no-progress --no-state >/dev/null 2>&1
check "restore: written byte for byte" diff -r "$WORK/bk" "$WORK/bk.back"
ferry sync "rb:$CACHE" "$WORK/c.back" --no-progress --no-state >/dev/null 2>&1
check "cache warm: the prefix cached byte for byte" diff -r "$WORK/c" "$WORK/c.back"
check "the worker's summary counts the restore, the warm and the unpack" \
  grep -q "ferry worker: .* objects copied" "$WORK/worker.err"
drop_versions ra "$RSRC"; drop_versions rb "$RDST"
finish
