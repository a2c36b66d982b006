#!/usr/bin/env bash
# Archived sources (docs/design/glacier.md) against a real moto_server (started here on a free
# port; the test fails when moto_server is missing): a bucket with STANDARD objects and GLACIER
# and DEEP_ARCHIVE ones (put by the AWS CLI, as another tool would). A sync to a folder without
# --restore-archived copies the STANDARD ones, reports each archived one (one log line naming
# the key, its class and the flag; counted in the summary and --json), exits 0 and copies nothing
# else, the same again on a rerun and without state; sync --delete deletes nothing because of
# them; with --restore-archived 1 the restores are requested (moto's HEAD then shows
# x-amz-restore; moto finishes them at once) and everything is copied byte for byte. Bad flag
# values are one line and exit 2. The waiting itself (polls on the clock, the cap) is proven in
# src/transfer/archived_test.cc with a fake clock.
source "$(dirname "$0")/testlib.bash"
trap 'kill ${moto_pid:-} 2>/dev/null; wait ${moto_pid:-} 2>/dev/null; cleanup' EXIT
moto_start
aws_moto() {
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" "$AWS_CLI" --endpoint-url "$MOTO" "$@"
}
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

BKT=glacier-$$-$RANDOM
ferry mb "moto:$BKT" 2>/dev/null
mkdir -p "$WORK/src/plain"
head -c 70000 /dev/urandom > "$WORK/src/plain/one"
head -c 1234 /dev/urandom > "$WORK/src/plain/two"
ferry cp "$WORK/src" "moto:$BKT" --no-progress 2>/dev/null
head -c 300000 /dev/urandom > "$WORK/cold-g"
head -c 4567 /dev/urandom > "$WORK/cold-d"
aws_moto s3api put-object --bucket "$BKT" --key cold/g --body "$WORK/cold-g" \
  --storage-class GLACIER > /dev/null
aws_moto s3api put-object --bucket "$BKT" --key cold/d --body "$WORK/cold-d" \
  --storage-class DEEP_ARCHIVE > /dev/null
get_refused() {  # get_refused KEY: moto answers InvalidObjectState to a GET of KEY
  ! aws_moto s3api get-object --bucket "$BKT" --key "$1" "$WORK/x" > /dev/null 2> "$WORK/get.err" &&
    grep -q InvalidObjectState "$WORK/get.err"
}
restore_shown() {  # restore_shown KEY: a HEAD of KEY carries x-amz-restore
  aws_moto s3api head-object --bucket "$BKT" --key "$1" | grep -q '"Restore"'
}
check "moto refuses to GET a GLACIER object before a restore" get_refused cold/g

# 1. Without the flag: standard copied, archived reported, exit 0.
OUT=$WORK/dst  # not $WORK/out: expect_error writes there
rc=0
ferry sync "moto:$BKT" "$OUT" --json --no-progress > "$WORK/s1.json" 2> "$WORK/s1.err" || rc=$?
check "sync without --restore-archived exits 0" test "$rc" = 0
check "the STANDARD objects are copied byte for byte" \
  bash -c "cmp '$WORK/src/plain/one' '$OUT/plain/one' && cmp '$WORK/src/plain/two' '$OUT/plain/two'"
check "nothing archived is copied, nothing else is written" \
  test "$(cd "$OUT" && find . -type f | LC_ALL=C sort | tr '\n' ' ')" = "./plain/one ./plain/two "
check "--json counts 2 archived objects not copied, no failure" \
  bash -c "[ \"\$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j[\"archived_not_copied\"], j[\"objects_failed\"], j[\"ok\"], j[\"objects_copied\"])' '$WORK/s1.json')\" = '2 0 True 2' ]"
check "one log line per archived object names its key, its class and the flag" \
  bash -c "[ \$(grep -c 'restore-archived DAYS' '$WORK/s1.err') = 2 ] &&
           grep 'restore-archived DAYS' '$WORK/s1.err' | grep 'cold/g' | grep -q GLACIER &&
           grep 'restore-archived DAYS' '$WORK/s1.err' | grep 'cold/d' | grep -q DEEP_ARCHIVE"
no_restore() { ! restore_shown "$1"; }
check "no restore was requested" no_restore cold/g

# 2. A rerun behaves the same (nothing to copy, the archived reported again), and so does an
# in-memory run (--no-state).
rc=0
ferry sync "moto:$BKT" "$OUT" --no-progress 2> "$WORK/s2.err" || rc=$?
check "a rerun exits 0 and reports the 2 archived objects in its summary" \
  bash -c "[ $rc = 0 ] && grep -q '^2 archived objects' '$WORK/s2.err' &&
           grep -q '0 copied' '$WORK/s2.err' && grep -q '0 failed' '$WORK/s2.err'"
rc=0
ferry sync "moto:$BKT" "$WORK/mem" --no-state --json --no-progress > "$WORK/s3.json" 2> /dev/null || rc=$?
check "an in-memory run: exit 0, 2 copied, 2 archived not copied" \
  bash -c "[ $rc = 0 ] && [ \"\$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j[\"archived_not_copied\"], j[\"objects_copied\"])' '$WORK/s3.json')\" = '2 2' ]"

# 3. sync --delete: a stale local copy of an archived key stays; a plain extra file goes.
mkdir -p "$OUT/cold"
echo "stale" > "$OUT/cold/g"
echo "extra" > "$OUT/extra"
rc=0
ferry sync "moto:$BKT" "$OUT" --delete --no-progress 2> "$WORK/s4.err" || rc=$?
check "sync --delete exits 0" test "$rc" = 0
check "sync --delete keeps the destination's copy of an archived key" \
  test "$(cat "$OUT/cold/g")" = "stale"
check "sync --delete still deletes a plain destination-only file" test ! -e "$OUT/extra"
rm -f "$OUT/cold/g"

# 4. Bad flag values: one line, exit 2, nothing done.
check "--restore-archived abc is one error line, exit 2" \
  expect_error 2 "restore-archived" ferry sync "moto:$BKT" "$WORK/never" --restore-archived abc
check "--restore-archived 0 is one error line, exit 2" \
  expect_error 2 "restore-archived" ferry sync "moto:$BKT" "$WORK/never" --restore-archived 0
check "--restore-tier fast is one error line, exit 2" \
  expect_error 2 "restore-tier" ferry sync "moto:$BKT" "$WORK/never" --restore-archived 1 --restore-tier fast
check "--restore-poll 0s is one error line, exit 2" \
  expect_error 2 "restore-poll" ferry sync "moto:$BKT" "$WORK/never" --restore-archived 1 --restore-poll 0s
check "--restore-wait without --restore-archived is one error line, exit 2" \
  expect_error 2 "need --restore-archived" ferry sync "moto:$BKT" "$WORK/never" --restore-wait 1h
check "the refused runs wrote nothing" test ! -e "$WORK/never"

# 5. With --restore-archived 1: restores requested, waited for, everything copied.
rc=0
ferry sync "moto:$BKT" "$OUT" --restore-archived 1 --restore-poll 1s --restore-wait 2m --json \
  --no-progress > "$WORK/s5.json" 2> "$WORK/s5.err" || rc=$?
check "sync --restore-archived 1 exits 0" test "$rc" = 0
check "the archived objects are copied byte for byte" \
  bash -c "cmp '$WORK/cold-g' '$OUT/cold/g' && cmp '$WORK/cold-d' '$OUT/cold/d'"
check "--json: 2 restores requested, 2 archived copied, none left" \
  bash -c "[ \"\$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j[\"restores_requested\"], j[\"archived_copied\"], j[\"archived_not_copied\"], j[\"objects_failed\"])' '$WORK/s5.json')\" = '2 2 0 0' ]"
check "moto's HEAD shows the restore (x-amz-restore)" restore_shown cold/d
check "the whole tree matches the source" \
  test "$(cd "$OUT" && find . -type f | LC_ALL=C sort | tr '\n' ' ')" = "./cold/d ./cold/g ./plain/one ./plain/two "

# 6. A finished restore is readable: copied without the flag too.
rc=0
ferry sync "moto:$BKT" "$WORK/again" --json --no-progress > "$WORK/s6.json" 2> /dev/null || rc=$?
check "restored objects are copied without the flag" \
  bash -c "[ $rc = 0 ] && cmp '$WORK/cold-g' '$WORK/again/cold/g' && cmp '$WORK/cold-d' '$WORK/again/cold/d' &&
           [ \"\$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j[\"archived_not_copied\"], j[\"archived_copied\"])' '$WORK/s6.json')\" = '0 2' ]"
finish
