#!/usr/bin/env bash
# A durable sync from a key list (--files-from, the default durable run: docs/design/
# key-lists.md) on the RGW pair, worked on by two workers (the command's own and a `ferry
# worker` on the same state file), both SIGKILLed midway, then resumed by the same command:
# exactly the listed keys are copied, a listed key the source lacks is deleted (--delete) and
# counted, no unlisted key is copied or deleted. The run's list-scan jobs carry the list. Its
# --report (a part per job, docs/design/report.md) has a row per listed key touched, each once,
# whatever the kill left behind.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
STATE=$WORK/state.db
py() { python3 -c "$1" "${@:2}"; }
keys_of() { ferry ls "$1" --json | py 'import json,sys; [print(json.loads(l)["key"]) for l in sys.stdin]' | LC_ALL=C sort; }

# The source: 1,500 small objects; the list: 1,000 of them (every key not divisible by 3),
# out of order, a listed key neither side has, and the listed stale keys below.
py '
import os, random, sys
src, dst, lst, want = sys.argv[1:5]
os.makedirs(src); os.makedirs(dst)
listed = []
for i in range(1500):
    open(os.path.join(src, f"o{i:05d}"), "w").write(f"object {i}\n")
    if i % 3: listed.append(f"o{i:05d}")
for i in range(20):  # on the destination only: listed ones deleted, the others kept
    open(os.path.join(dst, f"p{i:03d}"), "w").write("stale\n")
    if i % 2 == 0: listed.append(f"p{i:03d}")
open(os.path.join(dst, "o00003"), "w").write("unlisted, older\n")  # unlisted: kept as it is
listed.append("missing/key")
kept = [f"p{i:03d}" for i in range(20) if i % 2] + ["o00003"]
expect = sorted([k for k in listed if k.startswith("o")] + kept)
random.seed(7); random.shuffle(listed)
open(lst, "w").write("# the keys to sync\n" + "\n".join(listed) + "\n")
open(want, "w").write("\n".join(expect) + "\n")
rows = sorted(listed)  # copied, deleted, or (missing/key) skipped as not on the source
open(want + ".rows", "w").write("\n".join(rows) + "\n")
' "$WORK/src" "$WORK/dst" "$WORK/list.txt" "$WORK/want"
check "source: 1500 objects" ferry cp "$WORK/src" "ra:$A" --no-progress --no-state
check "destination: 21 objects" ferry cp "$WORK/dst" "rb:$B" --no-progress --no-state
copied_so_far() { [ "$(ferry ls "rb:$B" 2>/dev/null | wc -l)" -ge "$1" ]; }

# Two workers: the command's and a `ferry worker` of the same state; both killed midway.
"$FERRY_BIN" --config "$CONF" sync "ra:$A" "rb:$B" --delete --files-from "$WORK/list.txt" \
  --state "$STATE" --report "$WORK/report" --report-level all --concurrency 1 --no-progress > "$WORK/run1.log" 2>&1 &
pid1=$!
run_exists() { ferry jobs show 0 --state "$STATE" 2>/dev/null | grep -q list-scan; }
wait_for 20 run_exists || true
"$FERRY_BIN" --config "$CONF" worker --state "$STATE" --concurrency 1 > "$WORK/worker.log" 2>&1 &
pid2=$!
wait_for 40 copied_so_far 150 || true
kill -9 "$pid1" "$pid2"; wait "$pid1" "$pid2" 2>/dev/null || true
n=$(ferry ls "rb:$B" | wc -l)
echo "  objects on the destination after the kill: $n"
check "killed midway (not all 1000 listed source keys copied yet)" [ "$n" -lt 1011 ]

rc=0
"$FERRY_BIN" --config "$CONF" sync "ra:$A" "rb:$B" --delete --files-from "$WORK/list.txt" \
  --state "$STATE" --report "$WORK/report" --report-level all --no-progress --json > "$WORK/out" \
  2> "$WORK/run2.log" || rc=$?
check "rerun exits 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || tail -5 "$WORK/run2.log"
field() { py "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$WORK/out" "$1"; }
check "  resumed the run" [ "$(field resumed)" = True ]
keys_of "rb:$B" > "$WORK/got"
check "  the destination: exactly the listed source keys and the unlisted ones it had" \
  cmp -s "$WORK/want" "$WORK/got"
[ -f "$WORK/got" ] && diff "$WORK/want" "$WORK/got" | head -5
size_of() { ferry ls "rb:$B" --json | py 'import json,sys; [print(o["size"]) for o in map(json.loads, sys.stdin) if o["key"] == sys.argv[1]]' "$1"; }
check "  the unlisted o00003 untouched (16 bytes, not the source's 9)" [ "$(size_of o00003)" = 16 ]
RC=$FERRY_TEST_TOOLS/report_check.py
python3 "$RC" rows "$WORK/report" | py 'import json,sys; [print(json.loads(l.split(" ", 3)[3])) for l in sys.stdin]' | LC_ALL=C sort > "$WORK/rows"
check "  the report: a row per listed key touched, each once" cmp -s "$WORK/want.rows" "$WORK/rows"
check "  the listed key the source lacks: skipped, NotFound, not a failure" \
  grep -q '^missing/key,,0,skipped,skipped,NotFound,listed but not found on the source,' \
  <(cat "$WORK"/report/*.csv)
# An object a killed attempt copied before its job committed is "skipped" by the attempt that
# committed (found identical): copied + skipped = the 1000 listed source keys + missing/key.
n_of() { python3 "$RC" summary "$WORK/report" "$1"; }
check "  1000 copied or found copied, 1 not on the source, 10 deleted, complete" \
  [ "$(( $(n_of counts.copied.ok) + $(n_of counts.skipped.skipped) )):$(n_of counts.deleted.ok):$(n_of complete)" = "1001:10:true" ]
rc=0
ferry sync "ra:$A" "rb:$B" --delete --files-from "$WORK/list.txt" --no-progress --json \
  > "$WORK/again" 2>/dev/null || rc=$?
check "a second run from the list copies and deletes nothing" \
  py 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["objects_copied"]==0 and d["objects_deleted"]==0 else 1)' "$WORK/again"
check "  unchanged: the 1000 listed source keys" \
  py 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["objects_unchanged"]==1000 else 1)' "$WORK/again"
finish
