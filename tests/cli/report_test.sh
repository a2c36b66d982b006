#!/usr/bin/env bash
# `--report LOCATION` on cp/sync's run in memory (docs/design/report.md) on the RGW pair: one
# row per object, in parts listed by a summary.json; to a local folder and to an S3 prefix;
# the rows checked against what the run did (copied, skipped, deleted; a key with a comma and
# a quote, quoted as RFC 4180 says); --report-level all vs changes vs errors; JSON lines; a
# failure row (a source entry that cannot be read); a dry run's would-* rows; `ferry verify
# --report` (differences as failed rows, identical ones at level all); a durable run's report
# (parts per job, one summary), a detached one worked by two workers, and bad flags in one
# line.
source "$(dirname "$0")/testlib.bash"
export HOME=$WORK/home  # this test's own HOME (and FERRY_STATE_DIR, testlib's)
mkdir -p "$HOME"
RC=$FERRY_TEST_TOOLS/report_check.py
A=$(new_bucket ra)
B=$(new_bucket rb)
R=$(new_bucket rb)
mkdir -p "$WORK/src"
for i in 1 2 3; do echo "object $i" > "$WORK/src/k$i"; done
echo "comma" > "$WORK/src/with,comma"
echo "quote" > "$WORK/src/a \"quoted\" key"
check "source: 5 objects" ferry cp "$WORK/src" "ra:$A" --no-progress
count() { python3 "$RC" count "$1" "$2"; }
summary() { python3 "$RC" summary "$1" "$2"; }

# 1. Everything copied, the report to a local folder (created), default level and format.
check "sync --no-state --report to a folder" ferry sync "ra:$A" "rb:$B" --no-state --no-progress \
  --report "$WORK/rep1"
check "  5 copied rows" [ "$(count "$WORK/rep1" copied)" = 5 ]
check "  the summary counts 5 copied ok" [ "$(summary "$WORK/rep1" counts.copied.ok)" = 5 ]
check "  and their bytes" [ "$(summary "$WORK/rep1" bytes.copied)" = 39 ]
check "  complete, csv, changes" [ "$(summary "$WORK/rep1" complete)/$(summary "$WORK/rep1" format)/$(summary "$WORK/rep1" level)" = "true/csv/changes" ]
check "  the key with a comma is one quoted field" grep -q '^"with,comma",,6,copied,ok,' \
  "$WORK/rep1"/part-*.csv
check "  the key with quotes has them doubled" grep -q '^"a ""quoted"" key",' \
  "$WORK/rep1"/part-*.csv
check "  its checksum: the source's MD5 ETag" \
  [ "$(python3 "$RC" field "$WORK/rep1" with,comma checksum)" = md5 ]
check "  rows have RFC 3339 UTC times" bash -c \
  "tail -n +2 '$WORK/rep1'/part-*.csv | grep -Eq ',[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$'"

# 2. One changed, one extra deleted, the rest skipped: --report-level all to an S3 prefix.
echo "object 1, longer now" > "$WORK/src/k1"
check "k1 changed at the source" ferry cp "$WORK/src" "ra:$A" --no-progress
mkdir -p "$WORK/extras"
echo "extra" > "$WORK/extras/extra"
check "an extra at the destination" ferry cp "$WORK/extras" "rb:$B" --no-progress
check "sync --delete --report-level all to an S3 prefix" ferry sync "ra:$A" "rb:$B" --delete \
  --no-state --no-progress --report "rb:$R/run2/" --report-level all
check "  the report fetched back" ferry cp "rb:$R/run2/" "$WORK/rep2" --no-state --no-progress
check "  1 copied, 4 skipped, 1 deleted" [ "$(count "$WORK/rep2" copied)/$(count "$WORK/rep2" skipped)/$(count "$WORK/rep2" deleted)" = "1/4/1" ]
check "  the copied one is k1" [ "$(python3 "$RC" field "$WORK/rep2" k1 action)" = copied ]
check "  the deleted one is extra" [ "$(python3 "$RC" field "$WORK/rep2" extra action)" = deleted ]
check "  a skip names what was compared" \
  [ "$(python3 "$RC" field "$WORK/rep2" k2 checksum)" != none ]
check "  the summary agrees" [ "$(summary "$WORK/rep2" counts.skipped.skipped)/$(summary "$WORK/rep2" counts.deleted.ok)/$(summary "$WORK/rep2" rows_written)" = "4/1/6" ]
check "  the destination is the source" [ "$(ferry ls "rb:$B" | wc -l)" = 5 ]

# 3. Nothing to do: level changes writes no row, the summary still counts every skip.
check "rerun, --report-level changes" ferry sync "ra:$A" "rb:$B" --no-state --no-progress \
  --report "$WORK/rep3"
check "  no part, 5 skips counted" [ "$(summary "$WORK/rep3" parts)/$(summary "$WORK/rep3" counts.skipped.skipped)/$(summary "$WORK/rep3" rows_written)" = "[]/5/0" ]

# 4. JSON lines, on a dry run: would-copy and would-delete rows, each line an object.
echo "new" > "$WORK/src/new"
check "new object at the source" ferry cp "$WORK/src" "ra:$A" --no-progress
check "extra again" ferry cp "$WORK/extras" "rb:$B" --no-progress
check "dry run --report-format json" ferry sync "ra:$A" "rb:$B" --delete --dry-run --no-progress \
  --report "$WORK/rep4" --report-format json
check "  a .jsonl part" bash -c "ls '$WORK/rep4'/part-*.jsonl"
check "  would-copy new, would-delete extra" [ "$(python3 "$RC" field "$WORK/rep4" new action)/$(python3 "$RC" field "$WORK/rep4" extra action)" = "would-copy/would-delete" ]
check "  nothing changed" [ "$(ferry ls "rb:$B" | wc -l)" = 6 ]

# 5. A failure row: a source entry that cannot be read (a dangling symbolic link); errors only.
mkdir -p "$WORK/broken"
echo "fine" > "$WORK/broken/fine"
ln -s "$WORK/nowhere" "$WORK/broken/dangling"
B2=$(new_bucket rb)
rc=0; ferry sync "$WORK/broken" "rb:$B2" --no-state --no-progress --report "$WORK/rep5" \
  --report-level errors 2> "$WORK/err" || rc=$?
check "the run with an unreadable source fails (exit 1)" [ "$rc" = 1 ]
check "  one row: failed, with its error" [ "$(python3 "$RC" rows "$WORK/rep5")" = 'failed failed none "dangling"' ]
check "  its error message says copy" bash -c \
  "python3 '$RC' field '$WORK/rep5' dangling error_message | grep -q '^copy: '"
check "  the summary: 1 failed, 1 copied, 1 row written" [ "$(summary "$WORK/rep5" counts.failed.failed)/$(summary "$WORK/rep5" counts.copied.ok)/$(summary "$WORK/rep5" rows_written)" = "1/1/1" ]

# 6. ferry verify --report: each difference a row (differs, missing, extra), failed; identical
# pairs only at level all; the checksum compared.
B3=$(new_bucket rb)
check "verify: a copy to audit" ferry cp "ra:$A" "rb:$B3" --no-state --no-progress
mkdir -p "$WORK/audit"
echo "not what the source has" > "$WORK/audit/k2"
echo "stray" > "$WORK/audit/stray"
check "  k2 changed, a stray added at DST" ferry cp "$WORK/audit" "rb:$B3" --no-state --no-progress
check "  k3 removed from DST" aws_side b s3 rm --quiet "s3://$B3/k3"
rc=0
ferry verify "ra:$A" "rb:$B3" --report "$WORK/rep6" > /dev/null 2>&1 || rc=$?
check "verify with differences exits 1" [ "$rc" = 1 ]
check "  differs k2, missing k3, extra stray" [ "$(python3 "$RC" field "$WORK/rep6" k2 action)/$(python3 "$RC" field "$WORK/rep6" k3 action)/$(python3 "$RC" field "$WORK/rep6" stray action)" = "differs/missing/extra" ]
check "  a difference is a failed row naming what was compared" [ "$(python3 "$RC" field "$WORK/rep6" k2 result)/$(python3 "$RC" field "$WORK/rep6" k2 checksum)" = "failed/size" ]
check "  identical pairs are not written at level changes" [ "$(count "$WORK/rep6" identical)" = 0 ]
check "  but counted" [ "$(summary "$WORK/rep6" counts.identical.ok)" = 4 ]
check "verify --report-level all --report-format json" bash -c \
  "'$FERRY_BIN' --config '$CONF' verify 'ra:$A' 'rb:$B3' --report '$WORK/rep6j' --report-level all --report-format json > /dev/null 2>&1; [ \$? = 1 ]"
check "  7 rows: 4 identical, 3 differences" [ "$(count "$WORK/rep6j" identical)/$(summary "$WORK/rep6j" rows_written)" = "4/7" ]
check "  an identical row names its checksum" \
  [ "$(python3 "$RC" field "$WORK/rep6j" k1 checksum)" = md5 ]

# 7. A report that cannot be written: a bucket that does not exist is refused before the run.
check "a report to a missing bucket is refused up front" expect_error 1 "ferry: error: --report" \
  ferry sync "ra:$A" "rb:$B" --no-state --no-progress --report "rb:no-such-bucket-$$/r/"

# 8. A durable run's report: a part per job, one summary (durable_files_from_test.sh kills
# and resumes one); bad flags.
check "durable run: --report" ferry sync "ra:$A" "rb:$B" --report "$WORK/rep8" --report-level all \
  --no-progress
check "  every part listed by its summary, complete" \
  [ "$(python3 "$RC" summary "$WORK/rep8" complete)" = true ]

# 9. A detached run's report: queued by one process, worked by two `ferry worker`s side by side,
# its summary written by whichever ends the run (the report-summary job), not by the process
# that queued it (gone by then).
B9=$(new_bucket rb)
ST9=$WORK/detached.db
check "durable --report with --detach: queued" bash -c "'$FERRY_BIN' --config '$CONF' sync \
  'ra:$A' 'rb:$B9' --state '$ST9' --report '$WORK/rep9' --report-level all --detach \
  2> '$WORK/q9.log'"
RUN9=$(sed -n 's/^run \([0-9]*\) queued.*/\1/p' "$WORK/q9.log")
check "  no summary before a worker ends the run" [ ! -e "$WORK/rep9/summary.json" ]
ferry worker --state "$ST9" --run "$RUN9" --until-done > "$WORK/w9a.log" 2>&1 & W9A=$!
ferry worker --state "$ST9" --run "$RUN9" --until-done > "$WORK/w9b.log" 2>&1 & W9B=$!
rc_a=0 rc_b=0
wait "$W9A" || rc_a=$?
wait "$W9B" || rc_b=$?
check "  two workers ran it to its end" [ "$rc_a/$rc_b" = 0/0 ]
check "  the summary: complete, its parts exactly those in the folder" \
  [ "$(summary "$WORK/rep9" complete)" = true ]
N9=$(ferry ls "ra:$A" | wc -l)
check "  a copied row per source object ($N9), each key once" \
  [ "$(count "$WORK/rep9" copied)/$(python3 "$RC" rows "$WORK/rep9" | cut -d' ' -f4- | sort -u | wc -l)" = "$N9/$N9" ]
check "  the destination has them" [ "$(ferry ls "rb:$B9" | wc -l)" = "$N9" ]
check "  the run is done" bash -c "'$FERRY_BIN' --config '$CONF' jobs list --state '$ST9' | grep -q done"
check "bad --report-level" expect_error 2 "--report-level: \"most\" is not errors, changes or all" \
  ferry sync "ra:$A" "rb:$B" --no-state --report "$WORK/rep7" --report-level most
check "bad --report-format" expect_error 2 "--report-format: \"xml\" is not csv or json" \
  ferry cp "ra:$A" "rb:$B" --no-state --report "$WORK/rep7" --report-format xml
check "--report-format without --report" expect_error 2 "--report-format needs --report" \
  ferry sync "ra:$A" "rb:$B" --no-state --report-format json
finish
