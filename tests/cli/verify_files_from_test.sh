#!/usr/bin/env bash
# `ferry verify SRC DST --files-from LIST` (docs/design/verify.md, key-lists.md) on the RGW
# pair: only the listed keys are compared. Differences inside and outside the list: the listed
# ones are reported as a full verify reports them (a listed key on one side only included),
# the unlisted ones never, exit 1; the same with --json, a CSV list and a list from stdin; after
# the listed keys are synced, exit 0 while a full verify still finds the unlisted differences;
# --list-ranges above 1 and --versions are refused in one line.
source "$(dirname "$0")/testlib.bash"
export HOME=$WORK/home  # this test's own HOME (and FERRY_STATE_DIR, testlib's)
mkdir -p "$HOME"
A=$(new_bucket ra)
B=$(new_bucket rb)
mkdir -p "$WORK/src" "$WORK/dst"
for k in same1 same2 diff-listed diff-unlisted only-src-listed only-src-unlisted; do
  echo "source $k" > "$WORK/src/$k"
done
for k in same1 same2 only-dst-listed only-dst-unlisted; do echo "source $k" > "$WORK/dst/$k"; done
echo "changed, longer" > "$WORK/dst/diff-listed"
echo "changed, longer" > "$WORK/dst/diff-unlisted"
check "source: 6 objects" ferry cp "$WORK/src" "ra:$A/src/" --no-progress
check "destination: 6 objects" ferry cp "$WORK/dst" "rb:$B/dst/" --no-progress

printf '# the listed keys\nsame1\ndiff-listed\n/only-src-listed\nonly-dst-listed\nnowhere\n' \
  > "$WORK/list.txt"
rc=0; ferry verify "ra:$A/src/" "rb:$B/dst/" --files-from "$WORK/list.txt" \
  > "$WORK/report" 2> "$WORK/err" || rc=$?
check "verify --files-from: exit 1 (differences)" [ "$rc" = 1 ]
check "  the listed pair identical" grep -qx "= same1" "$WORK/report"
check "  the listed pair that differs" grep -qx '\* diff-listed' "$WORK/report"
check "  a listed key only in SRC" grep -qx -- "- only-src-listed" "$WORK/report"
check "  a listed key only in DST (absent from SRC)" grep -qx "+ only-dst-listed" "$WORK/report"
check "  nothing else reported" [ "$(wc -l < "$WORK/report")" = 4 ]
check "  no unlisted key" eval '! grep -q unlisted "$WORK/report"'
check "  the summary counts the listed keys only" \
  grep -q "^verify: 1 identical, 1 differ, 1 missing, 1 extra, 0 errors" "$WORK/err"
check "  the cost line names the list" grep -q "5 keys from --files-from (2 not in SRC)" "$WORK/err"

rc=0; ferry verify "ra:$A/src/" "rb:$B/dst/" --files-from "$WORK/list.txt" --json \
  > "$WORK/report.json" 2> /dev/null || rc=$?
check "--json: exit 1, one object per listed key found" \
  eval '[ "$rc" = 1 ] && [ "$(wc -l < "$WORK/report.json")" = 4 ]'
check "  the extra key as JSON" \
  grep -q '"key":"only-dst-listed","reason":"only in DST","result":"extra"' "$WORK/report.json"

# A CSV list (S3 Batch Operations rows: the source bucket and its full keys) of matching keys.
printf '%s,src/same1\n%s,src/same2\n' "$A" "$A" > "$WORK/same.csv"
check "csv list of identical keys: exit 0" \
  ferry verify "ra:$A/src/" "rb:$B/dst/" --files-from "$WORK/same.csv"
check "from stdin, an unlisted difference not looked at: exit 0" bash -c \
  "printf 'same2\n' | '$FERRY_BIN' --config '$CONF' verify 'ra:$A/src/' 'rb:$B/dst/' \
  --files-from - 2>/dev/null | grep -qx '= same2'"

# The listed keys made to match (sync --delete of the same list): exit 0, while a full verify
# still finds the unlisted differences.
check "sync --delete --files-from" ferry sync "ra:$A/src/" "rb:$B/dst/" --delete \
  --files-from "$WORK/list.txt" --no-state --no-progress
rc=0; ferry verify "ra:$A/src/" "rb:$B/dst/" --files-from "$WORK/list.txt" \
  > "$WORK/report" 2> "$WORK/err" || rc=$?
check "verify --files-from after the sync: exit 0" [ "$rc" = 0 ]
check "  three listed pairs identical, nothing else" eval \
  '[ "$(grep -c "^= " "$WORK/report")" = 3 ] && [ "$(wc -l < "$WORK/report")" = 3 ]'
rc=0; ferry verify "ra:$A/src/" "rb:$B/dst/" > /dev/null 2>&1 || rc=$?
check "a full verify still finds the unlisted differences: exit 1" [ "$rc" = 1 ]

check "--list-ranges with a list refused" expect_error 2 "give one or the other" \
  ferry verify "ra:$A/src/" "rb:$B/dst/" --files-from "$WORK/list.txt" --list-ranges 4
check "--versions with a list refused" expect_error 2 "--versions cannot take --files-from" \
  ferry verify "ra:$A/src/" "rb:$B/dst/" --files-from "$WORK/list.txt" --versions
check "--files-from-format alone refused" expect_error 2 "--files-from-format needs --files-from" \
  ferry verify "ra:$A/src/" "rb:$B/dst/" --files-from-format csv
printf 'same1\n/\n' > "$WORK/bad.txt"
check "a bad line refused, naming file:line" expect_error 2 "bad.txt:2: an empty key" \
  ferry verify "ra:$A/src/" "rb:$B/dst/" --files-from "$WORK/bad.txt"
finish
