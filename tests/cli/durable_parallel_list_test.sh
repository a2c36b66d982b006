#!/usr/bin/env bash
# Parallel listing of one run: a sync of 2,405 objects (folders by date, flat numbered names,
# hostile keys) listed in chunks of 100 keys by 4 listers. The run's scan jobs split their key
# ranges (`ferry jobs show` prints each scan's range), and the result is exact: the destination
# holds the source's keys and bytes, changed objects were copied again, extras were deleted,
# and objects the source also has in a later chunk were not.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
py() { python3 -c "$1" "${@:2}"; }
keys_of() { ferry ls "$1" --json | py 'import json,sys; [print(json.loads(l)["key"]) for l in sys.stdin]' | LC_ALL=C sort; }
json_field() { py "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

# The source: 12 months x 10 days x 10 files, 1,200 flat numbered keys, a few hostile keys.
py '
import os, sys
root = sys.argv[1]
def put(key, body):
    path = os.path.join(root, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(body)
for m in range(1, 13):
    for d in range(1, 11):
        for f in range(10):
            put(f"logs/2026/{m:02d}/{d:02d}/event-{f}.json", f"{m} {d} {f}\n")
for i in range(1200):
    put(f"obj-{i:05d}", f"object {i}\n")
for k in ["a b/c d", "100%/x", "c+d", "\u00fc/\u65e5\u672c\u8a9e", "..x"]:
    put(k, k + "\n")
' "$WORK/src"
# The destination before the run: a copy of the source, then the keys under logs/2026/03/
# removed, every fourth object rewritten with other content (longer than any original), and
# extras between the source's keys and past its last key. The expected counts go to a file.
py '
import os, sys
src, root, out = sys.argv[1], sys.argv[2], sys.argv[3]
keys = sorted(os.path.relpath(os.path.join(d, f), src) for d, _, fs in os.walk(src) for f in fs)
def put(key, body):
    path = os.path.join(root, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(body)
changed = set()
extras = 0
for i, k in enumerate(keys):
    if i % 4 == 0:
        put(k, "old content that differs\n")
        changed.add(k)
    if i % 9 == 0:
        put(k + "~extra", "extra\n")
        extras += 1
put("zzz/extra", "extra\n")
extras += 1
copied = len(changed | {k for k in keys if k.startswith("logs/2026/03/")})
open(out, "w").write(f"{len(keys)} {copied} {extras}\n")
' "$WORK/src" "$WORK/seed" "$WORK/expected"
read -r total copied extras < "$WORK/expected"
mkdir -p "$WORK/empty"
check "source uploaded" ferry cp "$WORK/src" "ra:$A" --no-progress --no-state
check "destination: a copy of the source" ferry sync "ra:$A" "rb:$B" --no-progress --no-state
check "  less logs/2026/03/" ferry sync "$WORK/empty" "rb:$B/logs/2026/03/" --delete --no-progress --no-state
check "  with changed objects and extras" ferry cp "$WORK/seed" "rb:$B" --no-progress --no-state
keys_of "ra:$A" > "$WORK/src.keys"
check "  $total source objects" [ "$(wc -l < "$WORK/src.keys")" = "$total" ]

STATE=$WORK/state.db
rc=0
"$FERRY_BIN" --config "$CONF" sync "ra:$A" "rb:$B" --delete --state "$STATE" \
  --scan-chunk 100 --listers 4 --no-progress --json > "$WORK/out" 2> "$WORK/err" || rc=$?
check "sync with parallel listing exits 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || cat "$WORK/err"
check "  copied the $copied missing and changed objects" [ "$(json_field "$WORK/out" objects_copied)" = "$copied" ]
check "  left $((total - copied)) unchanged" [ "$(json_field "$WORK/out" objects_unchanged)" = "$((total - copied))" ]
check "  deleted the $extras extras" [ "$(json_field "$WORK/out" objects_deleted)" = "$extras" ]
keys_of "rb:$B" > "$WORK/dst.keys"
check "  destination keys equal source keys" cmp -s "$WORK/src.keys" "$WORK/dst.keys"
rc=0
"$FERRY_BIN" --config "$CONF" sync "ra:$A" "rb:$B" --delete --checksum --no-state --no-progress \
  --json > "$WORK/out2" 2> "$WORK/err2" || rc=$?
check "  content equal (checksum re-sync copies nothing)" \
  [ "$rc:$(json_field "$WORK/out2" objects_copied):$(json_field "$WORK/out2" objects_deleted)" = "0:0:0" ]

ferry jobs show 0 --state "$STATE" --json --limit 100000 > "$WORK/jobs"
scans=$(grep -c '"kind":"scan"' "$WORK/jobs" || true)
bounded=$(grep '"kind":"scan"' "$WORK/jobs" | grep -c '"last":' || true)
echo "  ($scans scan jobs, $bounded of them with an end key)"
check "  the listing was split into key ranges" [ "$bounded" -ge 4 ]
check "  every scan job is done" [ "$(grep '"kind":"scan"' "$WORK/jobs" | grep -vc '"state":"done"' || true)" = 0 ]

# A no-change re-sync through the same parallel listing plans nothing.
rc=0
"$FERRY_BIN" --config "$CONF" sync "ra:$A" "rb:$B" --delete --state "$WORK/state2.db" \
  --scan-chunk 100 --listers 4 --no-progress --json > "$WORK/out3" 2> "$WORK/err3" || rc=$?
check "no-change re-sync copies and deletes nothing" \
  [ "$rc:$(json_field "$WORK/out3" objects_copied):$(json_field "$WORK/out3" objects_deleted):$(json_field "$WORK/out3" objects_unchanged)" = "0:0:0:$total" ]
finish
