#!/usr/bin/env bash
# Low-level retries (docs/design/limits.md): bytes corrupted on the way are refused by a checksum
# and read again, up to --low-level-retries times (default 10), never written. The fault proxy
# (tests/tools/fault_proxy.py) flips a byte in 10% of the object GETs of a 200-object bucket:
# copies to S3 and to a folder end with exit 0, every object's bytes the source's, and as many
# reads done again as the proxy corrupted. With --low-level-retries 0 one corrupted read fails
# its object (exit 1) and nothing of it is written. A move (in memory, durable) never deletes the
# source object whose read was corrupted.
source "$(dirname "$0")/testlib.bash"
PROXY="$(cd "$(dirname "$0")/../tools" && pwd)/fault_proxy.py"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
A=$(new_bucket ra)
B=$(new_bucket rb)
mkdir -p "$WORK/src"
for i in $(seq 1 200); do head -c $((1000 + (i * 7919) % 7000)) /dev/urandom > "$WORK/src/o$i"; done
ferry sync "$WORK/src" "ra:$A" --no-progress --no-state > /dev/null 2>&1

proxy_pid=""
trap 'stop_proxy; cleanup' EXIT
# stop_proxy: the proxy ends (and writes its final counts)
stop_proxy() {
  if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true; fi
  proxy_pid=""
}
# start_proxy NAME OPTION...: a fault proxy in front of gateway A; remote fa points at it
start_proxy() {
  local name=$1; shift
  stop_proxy
  "$PY" "$PROXY" --upstream "${FERRY_TEST_S3_ENDPOINT#http://}" --port 0 --seed 5 \
    --stats "$WORK/$name.stats" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  proxy_pid=$!
  wait_for 30 port_file_written "$WORK/$name.out" || true
  local port; port=$(head -1 "$WORK/$name.out")
  [ -n "$port" ] || { echo "fault proxy did not start: $(cat "$WORK/$name.err")"; exit 1; }
  sed -i '/^\[remotes.fa\]/,$d' "$CONF"
  printf '[remotes.fa]\nendpoint = "http://127.0.0.1:%s"\nregion = "%s"\naccess_key_id_env = "RA_KEY"\nsecret_access_key_env = "RA_SECRET"\n' \
    "$port" "${FERRY_TEST_S3_REGION:-region-a}" >> "$CONF"
}
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
# flips STATS: the reads the proxy corrupted (call stop_proxy first: its final counts)
flips() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['by_kind']['flip'])" "$1"; }
# same_as_source BUCKET: the bucket's ETags (MD5: single-part objects) are the files' MD5s
same_as_source() {
  aws_side b s3api list-objects-v2 --bucket "$1" --query 'Contents[].[Key,ETag]' --output text \
    | tr -d '"' | sort > "$WORK/etags"
  (cd "$WORK/src" && md5sum o* | awk '{print $2 "\t" $1}' | sort) > "$WORK/md5s"
  diff "$WORK/etags" "$WORK/md5s" > /dev/null
}

start_proxy s3 --kinds flip --rate 0.1 --methods GET
rc=0
ferry sync "fa:$A" "rb:$B" --no-progress --no-state --json > "$WORK/s3.json" 2> "$WORK/s3.err" || rc=$?
stop_proxy
n=$(flips "$WORK/s3.stats")
echo "  reads corrupted by the proxy: $n; done again: $(field "$WORK/s3.json" checksum_retries)"
check "S3 to S3 with 10% of the GETs corrupted: exit 0" [ "$rc" = 0 ]
check "  200 objects copied, none failed" \
  [ "$(field "$WORK/s3.json" objects_copied)" = 200 -a "$(field "$WORK/s3.json" objects_failed)" = 0 ]
check "  some reads were corrupted (the test tests something)" [ "$n" -ge 5 ]
check "  every corrupted read was done again" [ "$(field "$WORK/s3.json" checksum_retries)" = "$n" ]
check "  every object's bytes are the source's" same_as_source "$B"

start_proxy local --kinds flip --rate 0.1 --methods GET
rc=0
ferry sync "fa:$A" "$WORK/dst" --no-progress --no-state --json > "$WORK/local.json" 2> "$WORK/local.err" || rc=$?
stop_proxy
n=$(flips "$WORK/local.stats")
check "S3 to a folder with 10% of the GETs corrupted: exit 0" [ "$rc" = 0 ]
check "  every file is the source's" diff -r "$WORK/src" "$WORK/dst"
check "  every corrupted read was done again" [ "$(field "$WORK/local.json" checksum_retries)" = "$n" ]

# one read of o7 corrupted: with no low-level retries it fails o7, and o7 is not written
rm -rf "$WORK/dst2"
start_proxy none --kinds flip --rate 0 --force 'flip:^GET /[^ ]*/o7 '
rc=0
ferry sync "fa:$A" "$WORK/dst2" --low-level-retries 0 --no-progress --no-state --json \
  > "$WORK/none.json" 2> "$WORK/none.err" || rc=$?
check "--low-level-retries 0 and one corrupted read: exit 1" [ "$rc" = 1 ]
check "  that object failed, the others copied" \
  [ "$(field "$WORK/none.json" objects_failed)" = 1 -a "$(field "$WORK/none.json" objects_copied)" = 199 ]
check "  and it is not written" [ ! -e "$WORK/dst2/o7" ]
check "  its failure says why" grep -q 'o7 do not match.*corrupted on the way' "$WORK/none.json"
start_proxy again --kinds flip --rate 0 --force 'flip:^GET /[^ ]*/o7 '
rc=0
ferry sync "fa:$A" "$WORK/dst2" --no-progress --no-state --json > "$WORK/again.json" 2> "$WORK/again.err" || rc=$?
check "the same corrupted read with the default retries: exit 0, o7 the source's" \
  bash -c "[ $rc = 0 ] && cmp -s '$WORK/src/o7' '$WORK/dst2/o7'"
check "--low-level-retries -1 is refused: exit 2" expect_error 2 "low-level-retries" ferry --low-level-retries -1 ls "ra:$A"

# ferry move (docs/design/guards.md): a source object whose read was corrupted is never deleted
stop_proxy
for p in mv mv2; do
  ferry cp "$WORK/src" "ra:$A/$p/" --include 'o1*' --no-progress --no-state > /dev/null 2>&1
done
n_moved=$(ferry ls "ra:$A/mv/" | wc -l)
start_proxy mv --kinds flip --rate 0 --force 'flip:^GET /[^ ]*/mv/o17 '
rc=0
ferry move "fa:$A/mv/" "$WORK/mv" --low-level-retries 0 --no-progress --json > "$WORK/mv.json" \
  2> "$WORK/mv.err" || rc=$?
stop_proxy
check "move with one corrupted read: exit 1" [ "$rc" = 1 ]
check "  that object stays on the source, and only it" [ "$(ferry ls "ra:$A/mv/" | awk '{print $NF}')" = o17 ]
check "  it is not written; the others moved" \
  bash -c "[ ! -e '$WORK/mv/o17' ] && [ \$(ls '$WORK/mv' | wc -l) = $((n_moved - 1)) ]"
start_proxy mv2 --kinds flip --rate 0 --force 'flip:^GET /[^ ]*/mv2/o17 '
rc=0
ferry move "fa:$A/mv2/" "$WORK/mv2" --state "$WORK/mv2.db" --max-attempts 1 --low-level-retries 0 \
  --no-progress > /dev/null 2> "$WORK/mv2.err" || rc=$?
stop_proxy
check "a durable move with one corrupted read: exit 1" [ "$rc" = 1 ]
check "  no source object deleted (a copy failed for good)" [ "$(ferry ls "ra:$A/mv2/" | wc -l)" = "$n_moved" ]
check "  o17 not written" [ ! -e "$WORK/mv2/o17" ]
finish
