#!/usr/bin/env bash
# ferry sync planned from two S3 Inventories (--source-inventory, --dest-inventory) on RGW B, with
# the buckets changed since the inventories were written (tests/tools/make_inventory.py). The rows
# are the listings: ferry's own request accounting (--json) shows no LIST of either data bucket,
# and the keys whose rows say equal cost no request. Rows are claims: a source object whose rows
# differ and that changed again since is copied as it is now, one deleted since is counted as gone
# (not a failure), one added since is not in the inventory (left for the next one); destination
# keys the source lacks are deleted with --delete, and one the source's inventory lacks but the
# source has now is kept (a delete never rests on a row). Damaged inventories (bad manifest
# checksum, bad data-file MD5, truncated gzip, a bad key row, another bucket's inventory) each
# stop the run with one line and a non-zero exit, nothing written. The default durable run from
# the source inventory copies its keys; a durable run from both inventories, worked by one
# `ferry worker`, plans from the rows as the in-memory run does: no LIST, the same outcome.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_CEPH_CONF:?FERRY_TEST_CEPH_CONF not set}"
export HOME=$WORK/home
mkdir -p "$HOME" "$WORK/src"
MAKE_INVENTORY=$FERRY_TEST_TOOLS/make_inventory.py

for i in 01 02 03 04 05 06 07 08 09 10; do echo "object $i" > "$WORK/src/k$i"; done
echo "gone soon" > "$WORK/src/gone"
SRC=$(new_bucket rb)
DST=$(new_bucket rb)
INV=$(new_bucket rb)
check "source uploaded" ferry sync "$WORK/src" "rb:$SRC" --no-progress --no-state 2>/dev/null
check "destination holds k01..k08" ferry sync "rb:$SRC" "rb:$DST" --exclude 'k09' --exclude 'k10' \
  --exclude gone --no-progress --no-state 2>/dev/null
mkdir -p "$WORK/extra" "$WORK/later" "$WORK/v2"
for k in d1 d2 keep; do echo stale > "$WORK/extra/$k"; done
ferry cp "$WORK/extra" "rb:$DST" --no-progress --no-state 2>/dev/null
# k03 differs between the two sides when the inventories are written: its rows differ.
echo "object 03 v2" > "$WORK/v2/k03"
ferry cp "$WORK/v2" "rb:$SRC" --no-progress --no-state 2>/dev/null
# DST2: DST as it is now, for the durable run below (its own inventory, the same changes since).
DST2=$(new_bucket rb)
ferry sync "rb:$DST" "rb:$DST2" --no-progress --no-state 2>/dev/null

# The inventories, as S3 would have written them now.
ferry ls --json "rb:$SRC" > "$WORK/src.json"
ferry ls --json "rb:$DST" > "$WORK/dst.json"
ferry ls --json "rb:$DST2" > "$WORK/dst2.json"
# inventory BUCKET LISTING CONFIG [--corrupt KIND]
inventory() {
  python3 "$MAKE_INVENTORY" --source-bucket "$1" --out "$WORK/inv" --ferry-ls-json "$2" \
    --config-id "$3" --rows-per-file 4 "${@:4}" > /dev/null
}
inventory "$SRC" "$WORK/src.json" daily
inventory "$DST" "$WORK/dst.json" daily
inventory "$DST2" "$WORK/dst2.json" daily
for kind in bad-checksum bad-md5 truncated-gzip bad-key; do
  inventory "$SRC" "$WORK/src.json" "$kind" --corrupt "$kind"
done
check "inventories uploaded" ferry sync "$WORK/inv" "rb:$INV" --no-progress --no-state 2>/dev/null
SRC_INV=rb:$INV/inventories/$SRC
DST_INV=rb:$INV/inventories/$DST/daily

# Since the inventories: k03 changed, gone deleted, new added; keep appears on the source.
echo "object 03, changed" > "$WORK/later/k03"
echo stale > "$WORK/later/keep"
echo new > "$WORK/later/new"
ferry cp "$WORK/later" "rb:$SRC" --no-progress --no-state 2>/dev/null
aws_side b s3 rm "s3://$SRC/gone" > /dev/null

# Damaged inventories: one line, non-zero, nothing written.
ferry ls "rb:$DST" > "$WORK/dst.before"
run_from() {  # run_from CONFIG: a sync planned from the source inventory CONFIG
  ferry sync "rb:$SRC" "rb:$DST" --source-inventory "$SRC_INV/$1" --dest-inventory "$DST_INV" \
    --delete --no-progress --no-state
}
check "a manifest whose checksum differs: exit 1" \
  expect_error 1 "manifest.json's MD5 is [0-9a-f]*, manifest.checksum says" run_from bad-checksum
check "a data file whose MD5 differs: exit 1" \
  expect_error 1 "\.csv\.gz: MD5 [0-9a-f]*, the manifest's MD5checksum is" run_from bad-md5
check "a truncated gzip: exit 2" expect_error 2 "\.csv\.gz.*truncated" run_from truncated-gzip
check "a row with a bad key: file and row named, exit 2" \
  expect_error 2 "\.csv\.gz row 1: bad %-escape in key \"bad%zzkey\"" run_from bad-key
check "another bucket's inventory: exit 2" \
  expect_error 2 "is an inventory of bucket \"$DST\", not of the run's bucket \"$SRC\"" \
  ferry sync "rb:$SRC" "rb:$DST" --source-inventory "$DST_INV" --no-progress --no-state
check "  nothing written or deleted" diff <(ferry ls "rb:$DST") "$WORK/dst.before"

# The run from the local copy of the inventories: every request to remote rb (ferry's own
# accounting, --json) is then one to the two data buckets.
ferry sync "rb:$SRC" "rb:$DST" --source-inventory "$WORK/inv/inventories/$SRC/daily" \
  --dest-inventory "$WORK/inv/inventories/$DST/daily" --report "$WORK/report" \
  --delete --no-progress --no-state --json > "$WORK/run.json" 2> "$WORK/run.err"
check "the run succeeded" [ $? = 0 ]
ops() {  # ops FILE: the requests to rb by op class, "LIST=0 HEAD=14 ..."
  python3 -c "import json,sys
r = [s['requests'] for s in json.load(open(sys.argv[1]))['cost']['stores'] if s['remote'] == 'rb']
print(' '.join(f'{k}={v}' for k, v in sorted((r[0] if r else {}).items())))" "$1"
}
echo "  requests to the data buckets: $(ops "$WORK/run.json")"
check "  no LIST of either data bucket: the rows are the listings" \
  grep -qv "LIST=[1-9]" <(ops "$WORK/run.json")
# 7 keys to write or delete (k03, k09, k10, gone, d1, d2, keep), read on both sides; the 7 whose
# rows say equal are not read at all (a HEAD of every key on both sides would be 28).
heads=$(ops "$WORK/run.json" | grep -o 'HEAD=[0-9]*' | cut -d= -f2)
check "  keys whose rows say equal are not read ($heads HEADs)" [ "${heads:-0}" -lt 28 ]
jget() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
check "  3 copied (k03 differing and changed since, k09, k10)" [ "$(jget "$WORK/run.json" '["objects_copied"]')" = 3 ]
check "  2 deleted (d1, d2)" [ "$(jget "$WORK/run.json" '["objects_deleted"]')" = 2 ]
check "  1 gone since the inventory, not a failure" \
  [ "$(jget "$WORK/run.json" '["listed_not_found"]')" = 1 ]
check "  named in a warning" grep -q "gone since the inventory.*gone" "$WORK/run.err"
check "  and in the report: skipped, NotFound, not a failure" \
  grep -q '^gone,,0,skipped,skipped,NotFound,gone since the inventory,' <(cat "$WORK"/report/*.csv)
printf '%s\n' k01 k02 k03 k04 k05 k06 k07 k08 k09 k10 keep > "$WORK/want"
check "the destination: the source inventory's keys, keep, not new" \
  diff <(ferry ls "rb:$DST" | awk '{print $NF}' | sort) "$WORK/want"
ferry cp "rb:$DST" "$WORK/got" --include k03 --no-progress --no-state 2>/dev/null
check "  k03 as it is now, not as its row said" diff "$WORK/got/k03" "$WORK/later/k03"
# The default durable run (state file under $HOME): the source inventory's keys become its
# list-scan jobs; a rerun of the same command finds nothing left to do.
DUR=$(new_bucket rb)
ferry sync "rb:$SRC" "rb:$DUR" --source-inventory "$SRC_INV/daily" --no-progress --json \
  > "$WORK/dur.json" 2> /dev/null
check "a durable run: 10 copied (the source inventory's keys but gone)" \
  [ "$(jget "$WORK/dur.json" '["objects_copied"]')" = 10 ]
check "  its destination: k01..k10" \
  diff <(ferry ls "rb:$DUR" | awk '{print $NF}' | sort) <(head -n 10 "$WORK/want")
# A durable run from the two inventories (DST2), queued with --detach and run by one `ferry
# worker`: the list-scan jobs carry the rows and the worker plans each chunk from them. Both
# processes' S3 requests (--metrics-file; the inventories named by their manifests, so that not
# even the inventory bucket is listed): no LIST at all. The same outcome as the in-memory run.
manifest_of() {  # manifest_of BUCKET: the rb: location of its daily inventory's manifest
  local m
  m=$(cd "$WORK/inv" && ls inventories/"$1"/daily/*/manifest.json)
  echo "rb:$INV/$m"
}
ferry --metrics-file "$WORK/queue.prom" sync "rb:$SRC" "rb:$DST2" --delete \
  --source-inventory "$(manifest_of "$SRC")" --dest-inventory "$(manifest_of "$DST2")" \
  --state "$WORK/rows.db" --detach --no-progress 2> "$WORK/queue.err"
run=$(sed -n 's/^run \([0-9]*\) queued.*/\1/p' "$WORK/queue.err")
check "a durable run from two inventories queued" [ -n "$run" ]
ferry --metrics-file "$WORK/worker.prom" worker --state "$WORK/rows.db" --run "${run:-1}" \
  --until-done 2> "$WORK/worker.err"
check "  one ferry worker ran it to its end" [ $? = 0 ]
metric() {  # metric FILE NAME [LABEL_FILTER]: the sum of NAME's samples whose labels match
  awk -v n="$2" -v f="${3:-}" 'index($1, n) == 1 && index($1, f) > 0 { s += $NF } END { print s + 0 }' "$1"
}
lists=$(( $(metric "$WORK/queue.prom" ferry_s3_requests_total 'operation="List') +
          $(metric "$WORK/worker.prom" ferry_s3_requests_total 'operation="List') ))
heads=$(metric "$WORK/worker.prom" ferry_s3_requests_total 'operation="HeadObject"')
echo "  worker requests: $(awk '/^ferry_s3_requests_total/ { print }' "$WORK/worker.prom" | tr '\n' ' ')"
check "  no LIST request at all: the rows are the listings" [ "$lists" = 0 ]
check "  keys whose rows say equal are not read ($heads HEADs)" [ "${heads:-0}" -lt 28 ]
check "  1 gone since the inventory, counted, not a failure" \
  [ "$(metric "$WORK/worker.prom" ferry_transfer_listed_not_found_total)" = 1 ]
check "  named in the worker's warning" grep -q "gone since the inventory.*gone" "$WORK/worker.err"
check "  3 copied, 2 deleted" [ "$(metric "$WORK/worker.prom" ferry_transfer_objects_copied_total):$(
  metric "$WORK/worker.prom" ferry_transfer_objects_deleted_total)" = 3:2 ]
check "  DST2: the source inventory's keys, keep (the source has it again), not new" \
  diff <(ferry ls "rb:$DST2" | awk '{print $NF}' | sort) "$WORK/want"
ferry cp "rb:$DST2" "$WORK/got2" --include k03 --no-progress --no-state 2>/dev/null
check "  k03 as it is now, not as its row said" diff "$WORK/got2/k03" "$WORK/later/k03"
finish
