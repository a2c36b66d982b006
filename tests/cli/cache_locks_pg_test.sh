#!/usr/bin/env bash
# ferry cache warm: overlapping requests in several processes on one PostgreSQL index never
# copy an object twice (RGW B's usage log counts the PUTs the cache bucket received), a later
# request waits only for the keys the overlapping one has in flight and reports what it joined
# (a short nested request finishes while a long whole-bucket one is still copying); a holder
# SIGKILLed in the middle of its work loses its hold when its lease runs out, and the next
# overlapping request takes its keys over (copying again at most its unrecorded batch).
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_PG_URL:?FERRY_TEST_PG_URL not set: run through scripts/test-all.sh}"
: "${FERRY_TEST_CEPH_CONF:?FERRY_TEST_CEPH_CONF not set}"

S=ferry-cachelk-$$-s
C=ferry-cachelk-$$-c
K=ferry-cachelk-$$-k
T=ferry-cachelk-$$-t
N=ferry-cachelk-$$-n
ferry mb "ra:$S" >/dev/null 2>&1 && BUCKETS+=("ra:$S")
ferry mb "rb:$C" >/dev/null 2>&1 && BUCKETS+=("rb:$C")
ferry mb "rb:$K" >/dev/null 2>&1 && BUCKETS+=("rb:$K")
ferry mb "ra:$T" >/dev/null 2>&1 && BUCKETS+=("ra:$T")
ferry mb "rb:$N" >/dev/null 2>&1 && BUCKETS+=("rb:$N")
[ "${#BUCKETS[@]}" = 5 ] || { echo "cannot create the buckets"; exit 1; }
SCHEMA=ferry_cl$$
psql "$FERRY_TEST_PG_URL" -q -c "CREATE SCHEMA $SCHEMA" >/dev/null
STATE="$FERRY_TEST_PG_URL?options=-csearch_path%3D$SCHEMA"
pids=()
locks_cleanup() {
  local p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  psql "$FERRY_TEST_PG_URL" -q -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 || true
  return 0
}
trap 'locks_cleanup; cleanup' EXIT

# put_obj operations RGW B counted for bucket $1
put_ops() {
  rgw_b_usage_caught_up "$1" >&2 || true
  radosgw-admin -c "$FERRY_TEST_CEPH_CONF" --rgw-realm realm-b --rgw-zonegroup region-b \
    --rgw-zone zone-b usage show --uid tester-b 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin); n = 0
for e in d.get('entries', []):
    for b in e.get('buckets', []):
        if b.get('bucket') == '$1':
            for c in b.get('categories', []):
                if c.get('category') == 'put_obj': n += c.get('ops', 0)
print(n)"
}
jget() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

# 3 prefixes x 30 objects, and 100 objects under z/ for the kill
for p in y23/m01 y23/m02 y24/m01; do
  mkdir -p "$WORK/src/$p"
  for i in $(seq 1 30); do echo "$p $i" > "$WORK/src/$p/o$i"; done
done
mkdir -p "$WORK/src/z"
for i in $(seq 1 100); do echo "z $i" > "$WORK/src/z/o$i"; done
ferry cp "$WORK/src" "ra:$S" --no-progress >/dev/null 2>&1

# --- four overlapping requests at once
i=0
for prefixes in '--prefix y23/' '--prefix y23/m02/' '--prefix y24/ --prefix y23/m02/' '--prefix y'; do
  # shellcheck disable=SC2086
  "$FERRY_BIN" --config "$CONF" cache warm "ra:$S" $prefixes --cache "rb:$C" --state "$STATE" \
    --ttl 1h --concurrency 4 --json > "$WORK/r$i.json" 2> "$WORK/r$i.err" &
  pids+=($!)
  i=$((i + 1))
done
rcs=0
for p in "${pids[@]}"; do wait "$p" || rcs=$((rcs + 1)); done
pids=()
check "all four requests succeeded" [ "$rcs" = 0 ]
copied=0; saw=0; joined=0
for i in 0 1 2 3; do
  copied=$((copied + $(jget "$WORK/r$i.json" '["copied"]')))
  joined=$((joined + $(jget "$WORK/r$i.json" '["joined"]')))
  [ "$(jget "$WORK/r$i.json" '["overlapping"].__len__()')" -ge 1 ] && saw=$((saw + 1))
done
check "together they copied each object once" [ "$copied" = 90 ]
check "overlapping requests saw one another in flight" [ "$saw" -ge 1 ]
check "and reported the objects they joined" [ "$joined" -ge 1 ]
check "the cache bucket received exactly one PUT per object (usage log)" [ "$(put_ops "$C")" = 90 ]
check "the cache holds every object" [ "$(ferry ls "rb:$C" | wc -l)" = 90 ]

# --- a holder SIGKILLed mid-way: its lease runs out, the next request takes over
"$FERRY_BIN" --config "$CONF" cache warm "ra:$S" --prefix z/ --cache "rb:$K" --state "$STATE" \
  --ttl 1h --concurrency 1 --lock-ttl 3s --record-batch 5 --json > "$WORK/k1.json" 2>&1 &
victim=$!
pids+=("$victim")
recorded() {
  psql "$STATE" -At -c "SELECT COUNT(*) FROM cache_entries WHERE cache = 'rb://$K/'" 2>/dev/null || echo 0
}
fifteen_recorded() { [ "$(recorded)" -ge 15 ]; }
wait_for 30 fifteen_recorded || true
kill -9 "$victim"; wait "$victim" 2>/dev/null || true
pids=()
done_before=$(recorded)
check "the victim was killed in the middle of its work" [ "$done_before" -ge 15 -a "$done_before" -lt 100 ]
ferry cache warm "ra:$S" --prefix "" --cache "rb:$K" --state "$STATE" --ttl 1h --json \
  > "$WORK/k2.json" 2> "$WORK/k2.err"
check "the next overlapping request took the dead holder's keys over" \
  [ "$(jget "$WORK/k2.json" '["taken_over"].__len__()')" = 1 ]
check "and copied what was left" [ "$(jget "$WORK/k2.json" '["copied"]')" = $((190 - done_before)) ]
puts=$(put_ops "$K")
# written twice: at most the victim's unrecorded copies, i.e. the batch being recorded and the
# one filling (--record-batch 5 each) and the one copy in flight (--concurrency 1)
check "no object but the victim's unrecorded ones was written twice ($puts PUTs for 190 objects)" \
  [ "$puts" -ge 190 -a "$puts" -le 201 ]

# --- a long whole-bucket request and a short nested one at once: the nested one does not wait
# for the long one (which has not reached its keys), it copies them itself and finishes while
# the long one has not copied half of its objects; the long one then joins them
mkdir -p "$WORK/big/a" "$WORK/big/n"
for i in $(seq 1 1000); do echo "a $i" > "$WORK/big/a/o$i"; done
for i in $(seq 1 20); do echo "n $i" > "$WORK/big/n/o$i"; done
ferry cp "$WORK/big" "ra:$T" --no-progress >/dev/null 2>&1
"$FERRY_BIN" --config "$CONF" cache warm "ra:$T" --prefix "" --cache "rb:$N" --state "$STATE" \
  --ttl 1h --concurrency 1 --json > "$WORK/big.json" 2> "$WORK/big.err" &
big=$!
pids+=("$big")
rows_under() {
  psql "$STATE" -At -c "SELECT COUNT(*) FROM cache_entries WHERE cache = 'rb://$N/' AND key LIKE '$1%'" 2>/dev/null || echo 0
}
twenty_under_a() { [ "$(rows_under a/)" -ge 20 ]; }
wait_for 30 twenty_under_a || true
ferry cache warm "ra:$T" --prefix n/ --cache "rb:$N" --state "$STATE" --ttl 1h --json \
  > "$WORK/nested.json" 2> "$WORK/nested.err"
nested_rc=$?
at_nested_exit=$(rows_under a/)
wait "$big"; big_rc=$?
pids=()
check "the nested request succeeded at once" [ "$nested_rc" = 0 ]
check "it saw the long request in flight" \
  [ "$(jget "$WORK/nested.json" '["overlapping"].__len__()')" = 1 ]
check "it copied its keys itself" [ "$(jget "$WORK/nested.json" '["copied"]')" = 20 ]
check "before the long request had copied half of its objects ($at_nested_exit of 1020 recorded)" \
  [ "$at_nested_exit" -lt 510 ]
check "the long request succeeded" [ "$big_rc" = 0 ]
check "it copied the rest" [ "$(jget "$WORK/big.json" '["copied"]')" = 1000 ]
check "and joined what the nested one copied" [ "$(jget "$WORK/big.json" '["joined"]')" = 20 ]
check "each object was written once (usage log)" [ "$(put_ops "$N")" = 1020 ]
# --- expiry racing renewals: z/ (not cached in C yet) warmed again and again with a 1 s TTL by
# two overlapping loops while `cache serve` expires every second; afterwards every index entry
# has its object and every object its entry
"$FERRY_BIN" --config "$CONF" cache serve --cache "rb:$C" --state "$STATE" --interval 1s --json \
  > "$WORK/serve.out" 2> "$WORK/serve.err" &
serve=$!
pids+=("$serve")
storm() {  # prefix, log
  local n
  for n in 1 2 3 4; do
    "$FERRY_BIN" --config "$CONF" cache warm "ra:$S" --prefix "$1" --cache "rb:$C" \
      --state "$STATE" --ttl 1s --json >> "$2" 2>&1 || echo '{"failed": "exit"}' >> "$2"
    sleep 0.7  # kept: the storm's pace, a renewal about every TTL (1 s) with the warm's own time
  done
}
storm z/ "$WORK/storm1.jsonl" &
s1=$!
storm z/o1 "$WORK/storm2.jsonl" &
s2=$!
wait "$s1" "$s2"
# The storm's last renewals expire 1 s later: a few passes of serve after it find them, however
# the storm's own timing went on a loaded machine (its renewals may have kept every entry live).
storm_entries() {
  psql "$STATE" -At -c "SELECT COUNT(*) FROM cache_entries WHERE cache = 'rb://$C/' AND key LIKE 'z/%'" 2>/dev/null || echo -1
}
no_storm_entry_left() { [ "$(storm_entries)" = 0 ]; }
wait_until 30 "serve expires every entry the storm left once it ended" no_storm_entry_left
kill -TERM "$serve"; wait "$serve" || true
pids=()
expired=$(python3 -c "import json,sys; print(sum(json.loads(l)['expired'] for l in open(sys.argv[1]) if l.startswith('{')))" "$WORK/serve.out")
check "serve expired objects during and after the storm ($expired)" [ "$expired" -gt 0 ]
check "no warm of the storm failed" \
  [ "$(cat "$WORK/storm1.jsonl" "$WORK/storm2.jsonl" | grep -c '"failed":0')" = 8 ]
ferry cache verify --cache "rb:$C" --state "$STATE" --json > "$WORK/verify.json"
check "no index entry lost its object" [ "$(jget "$WORK/verify.json" '["dropped"]')" = 0 ]
check "no object lost its index entry" [ "$(jget "$WORK/verify.json" '["unknown"]')" = 0 ]
finish
