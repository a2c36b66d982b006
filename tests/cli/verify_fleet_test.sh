#!/usr/bin/env bash
# Fleet verify (docs/design/verify.md, "Fleet verify"): `ferry verify --state URL --detach` queues
# a durable audit of key-range jobs; two `ferry worker`s on the same state store work it, one is
# SIGKILLed midway and the other finishes the run. A copy of 1,000 small objects with 3 planted
# differences (one missing, one extra, one with other bytes of the same size): the report lists
# exactly those 3, once each, whatever the kill left behind. A rerun after fixing them finds 0.
# SQLite, and PostgreSQL ($FERRY_TEST_PG_URL) when set: a second, smaller pass (no kill).
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
STATE=$WORK/state.db
py() { python3 -c "$1" "${@:2}"; }

py '
import os, sys
src, dst = sys.argv[1:3]
os.makedirs(src); os.makedirs(dst)
for i in range(1000):
    body = f"object {i:05d}\n"
    open(os.path.join(src, f"o{i:05d}"), "w").write(body)
    if i == 500: continue                       # missing at the destination
    if i == 250: body = f"OBJECT {i:05d}\n"     # the same size, other bytes
    open(os.path.join(dst, f"o{i:05d}"), "w").write(body)
open(os.path.join(dst, "o00777x"), "w").write("stray\n")  # extra at the destination
' "$WORK/src" "$WORK/dst"
check "source: 1000 objects" ferry cp "$WORK/src" "ra:$A" --no-progress --no-state
check "destination: the copy with 3 differences" ferry cp "$WORK/dst" "rb:$B" --no-progress --no-state

records() {  # verify-result records committed so far
  py 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from jobs where kind=\"verify-result\"").fetchone()[0])' "$STATE" 2>/dev/null || echo 0
}
records_at_least() { [ "$(records)" -ge "$1" ]; }

rc=0
ferry verify "ra:$A" "rb:$B" --state "$STATE" --detach --report "$WORK/report" \
  > "$WORK/queue.out" 2> "$WORK/queue.err" || rc=$?
check "verify --detach queues the run (exit 0)" [ "$rc" = 0 ]
check "  and names it" grep -q "run 1 queued" "$WORK/queue.err"
worker() {
  "$FERRY_BIN" --config "$CONF" worker --state "$STATE" --run 1 --until-done --scan-chunk 20 \
    --listers 1 --lease-ttl 3 --concurrency 2 > "$WORK/worker$1.log" 2>&1
}
worker 1 & pid1=$!
worker 2 & pid2=$!
wait_for 30 records_at_least 5 || true
kill -9 "$pid1" 2>/dev/null || true
wait "$pid1" 2>/dev/null || true
n=$(records)
echo "  chunks recorded when worker 1 was killed: $n"
check "worker 1 killed midway (not every chunk recorded yet)" [ "$n" -lt 50 ]
rc=0
wait "$pid2" || rc=$?
check "worker 2 finishes the run (exit 0)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || tail -5 "$WORK/worker2.log"

RC=$FERRY_TEST_TOOLS/report_check.py
python3 "$RC" rows "$WORK/report" > "$WORK/rows" || true
check "the report: exactly the 3 differences, once each" [ "$(sort "$WORK/rows" | tr '\n' '|')" = \
  'differs failed md5 "o00250"|extra failed none "o00777x"|missing failed none "o00500"|' ]
cat "$WORK/rows"
n_of() { python3 "$RC" summary "$WORK/report" "$1"; }
check "  its summary: 998 identical, complete" \
  [ "$(n_of counts.identical.ok):$(n_of complete)" = "998:true" ]

# Fixed: the missing copied, the extra removed, the changed one copied again.
check "fix: a sync by checksum" ferry sync "ra:$A" "rb:$B" --delete --checksum --no-progress --no-state
rc=0
ferry verify "ra:$A" "rb:$B" --state "$STATE" --scan-chunk 300 > "$WORK/again.out" \
  2> "$WORK/again.err" || rc=$?
check "a rerun after the fix: exit 0" [ "$rc" = 0 ]
check "  0 differences" grep -q "1000 identical, 0 differ, 0 missing, 0 extra, 0 errors" "$WORK/again.err"

# Without --report, a difference is counted and named; exit 1 (a filter keeps o0025*).
check "plant one difference again" ferry cp "$WORK/dst" "rb:$B" --include o00250 --checksum \
  --no-progress --no-state
rc=0
ferry verify "ra:$A" "rb:$B" --state "$STATE" --include 'o0025*' > "$WORK/one.out" \
  2> "$WORK/one.err" || rc=$?
check "one difference: exit 1" [ "$rc" = 1 ]
check "  named on stdout" grep -qx '\* o00250' "$WORK/one.out"
check "  counted: 9 identical, 1 differ (the filter kept 10 keys)" \
  grep -q "9 identical, 1 differ, 0 missing, 0 extra" "$WORK/one.err"
check "--detach without --state refused (exit 2)" \
  bash -c "'$FERRY_BIN' --config '$CONF' verify 'ra:$A' 'rb:$B' --detach 2>/dev/null; [ \$? = 2 ]"

if [ -n "${FERRY_TEST_PG_URL:-}" ]; then
  rc=0
  ferry verify "ra:$A" "rb:$B" --state "$FERRY_TEST_PG_URL" --restart --scan-chunk 200 \
    > "$WORK/pg.out" 2> "$WORK/pg.err" || rc=$?
  check "PostgreSQL: the durable verify finds the one difference (exit 1)" [ "$rc" = 1 ]
  check "  999 identical, 1 differ" grep -q "999 identical, 1 differ, 0 missing" "$WORK/pg.err"
fi
finish
