#!/usr/bin/env bash
# A durable `ferry move` (--state, --detach; docs/design/guards.md) on RGW: the source objects
# are deleted in the run's delete phase, once every copy is done and only those the destination
# proved (a local source keeps its folders unless --delete-empty-src-dirs); a copy the destination refuses keeps every source object and fails the run, and the
# rerun moves everything; --max-delete past its count deletes nothing (exit 2); a run cut by
# --max-transfer deletes nothing and its rerun resumes it and finishes; --detach queues it for
# `ferry worker`; refusals in one line. State is checked with ferry itself (ls, cp), one AWS
# CLI call sets a policy and one drops it.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket ra)
source "$(dirname "$0")/movelib.bash"

echo "# refusals: one line, exit 2, nothing done"
fill "$WORK/r" x
check "--compress with --state refused" expect_error 2 "--compress does not go with a durable move" \
  ferry move "$WORK/r" "ra:$B/r/" --state "$WORK/r.db" --compress --staging "ra:$A/st/"
check "  nothing written, the source file is there" \
  all '[ "$(keys "ra:$B")" = "" ]' '[ "$(files "$WORK/r")" = "x " ]'

echo "# 1. local -> S3 with --state: every file moved, the folders stay, a delete-source row each"
fill "$WORK/m1" a b/c d/e/f
rc=0; ferry move "$WORK/m1" "ra:$B/m1/" --state "$WORK/m1.db" --no-progress --json \
  --report "$WORK/rep1" > "$WORK/out" 2> "$WORK/err" || rc=$?
check "move --state" [ "$rc" = 0 ]
check "  the destination has every object" [ "$(keys "ra:$B/m1/")" = "a b/c d/e/f " ]
check "  the source has no file, its folders stay (rclone's default)" \
  all '[ "$(files "$WORK/m1")" = "" ]' '[ "$(dirs "$WORK/m1")" = "b d d/e " ]'
check "  the summary: 3 copied, 3 deleted from the source" \
  all '[ "$(field command)" = move ]' '[ "$(field objects_copied)" = 3 ]' '[ "$(field sources_deleted)" = 3 ]'
check "  the report: 3 delete-source rows" \
  [ "$(cat "$WORK/rep1"/part-*.csv | grep -c ',delete-source,ok,')" = 3 ]
ferry cp "ra:$B/m1/" "$WORK/back1" --no-state --no-progress 2>/dev/null
check "  the bytes arrived" [ "$(cat "$WORK/back1/d/e/f")" = "bytes of d/e/f" ]
fill "$WORK/m6" top a/x a/b/y keep/c/z keep/c/skip.tmp
check "move --state --delete-empty-src-dirs" ferry move "$WORK/m6" "ra:$B/m6/" --state "$WORK/m6.db" \
  --no-progress --exclude '*.tmp' --delete-empty-src-dirs
check "  the folders the move emptied are gone, the one keeping skip.tmp and its parent stay" \
  all '[ "$(files "$WORK/m6")" = "keep/c/skip.tmp " ]' '[ "$(dirs "$WORK/m6")" = "keep keep/c " ]'

echo "# 2. S3 -> S3: a refused copy keeps every source object and fails the run; the rerun moves all"
fill "$WORK/m2" ok1 deny/no ok2 same
ferry cp "$WORK/m2" "ra:$A/m2/" --no-state --no-progress 2>/dev/null
fill "$WORK/m2same" same
ferry cp "$WORK/m2same" "ra:$B/m2/" --no-state --no-progress 2>/dev/null
cat > "$WORK/deny.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject",
 "Resource":"arn:aws:s3:::$B/m2/deny/*"}]}
JSON
check "deny writes under m2/deny/" aws_side a s3api put-bucket-policy --bucket "$B" --policy "file://$WORK/deny.json"
rc=0; ferry move "ra:$A/m2/" "ra:$B/m2/" --state "$WORK/m2.db" --no-progress --max-attempts 1 \
  2> "$WORK/err" || rc=$?
check "  the move fails (exit 1)" [ "$rc" = 1 ]
check "  the refused key is named" grep -q "deny/no" "$WORK/err"
check "  no source object deleted: the run did not copy everything" \
  [ "$(keys "ra:$A/m2/")" = "deny/no ok1 ok2 same " ]
check "  the summary says so" grep -q "no source object deleted" "$WORK/err"
check "  the destination has the others" [ "$(keys "ra:$B/m2/")" = "ok1 ok2 same " ]
check "lift the refusal" aws_side a s3api delete-bucket-policy --bucket "$B"
rc=0; ferry move "ra:$A/m2/" "ra:$B/m2/" --state "$WORK/m2.db" --no-progress --json \
  > "$WORK/out" 2> "$WORK/err" || rc=$?
check "the rerun (a new run: the first failed) finishes" [ "$rc" = 0 ]
check "  one copy, 4 deleted from the source (3 found identical by their bytes)" \
  all '[ "$(field objects_copied)" = 1 ]' '[ "$(field sources_deleted)" = 4 ]'
check "  source empty, destination whole" \
  all '[ "$(keys "ra:$A/m2/")" = "" ]' '[ "$(keys "ra:$B/m2/")" = "deny/no ok1 ok2 same " ]'

echo "# 3. --max-delete past its count: the copies are made, no source object deleted, exit 2"
fill "$WORK/m3" p q r s
rc=0; ferry move "$WORK/m3" "ra:$B/m3/" --state "$WORK/m3.db" --no-progress --max-delete 50% \
  2> "$WORK/err" || rc=$?
check "  exit 2" [ "$rc" = 2 ]
check "  the line says why" grep -q "4 deletes planned (100.*% of the 4 source objects in scope), over --max-delete 50%" "$WORK/err"
check "  copied, nothing deleted" all '[ "$(keys "ra:$B/m3/")" = "p q r s " ]' '[ "$(files "$WORK/m3")" = "p q r s " ]'
check "  ferry jobs says why" ferry jobs list --state "$WORK/m3.db" --limit 1
ferry jobs list --state "$WORK/m3.db" --limit 1 > "$WORK/jobs" 2>&1 || true
check "  (failed, stopped by --max-delete)" grep -q "stopped by --max-delete" "$WORK/jobs"
check "a move within the limit deletes them" \
  ferry move "$WORK/m3" "ra:$B/m3/" --state "$WORK/m3.db" --no-progress --max-delete 4
check "  source empty" [ "$(files "$WORK/m3")" = "" ]

echo "# 4. cut by --max-transfer: nothing deleted; the rerun resumes the run and finishes it"
mkdir -p "$WORK/m4"
for i in 1 2 3 4 5 6; do head -c 1048576 /dev/urandom > "$WORK/m4/f$i"; done
rc=0; ferry move "$WORK/m4" "ra:$B/m4/" --state "$WORK/m4.db" --no-progress --concurrency 1 \
  --max-transfer 2600KiB --cutoff-mode cautious 2> "$WORK/err" || rc=$?
check "  exit 8" [ "$rc" = 8 ]
check "  2 copied, every source file still there" \
  all '[ "$(keys "ra:$B/m4/")" = "f1 f2 " ]' '[ "$(files "$WORK/m4")" = "f1 f2 f3 f4 f5 f6 " ]'
sum_before=$(cat "$WORK"/m4/f* | md5sum)
rc=0; ferry move "$WORK/m4" "ra:$B/m4/" --state "$WORK/m4.db" --no-progress --concurrency 1 \
  --json > "$WORK/out" 2> "$WORK/err" || rc=$?
check "the rerun resumes it" all '[ "$rc" = 0 ]' '[ "$(field resumed)" = True ]'
check "  source empty, destination whole" \
  all '[ "$(files "$WORK/m4")" = "" ]' '[ "$(keys "ra:$B/m4/")" = "f1 f2 f3 f4 f5 f6 " ]'
ferry cp "ra:$B/m4/" "$WORK/back4" --no-state --no-progress 2>/dev/null
check "  with the bytes moved" [ "$(cat "$WORK"/back4/f* | md5sum)" = "$sum_before" ]

echo "# 5. --detach: queued, and ferry worker moves it"
fill "$WORK/m5" u v
ferry cp "$WORK/m5" "ra:$A/m5/" --no-state --no-progress 2>/dev/null
check "move --detach" ferry move "ra:$A/m5/" "ra:$B/m5/" --state "$WORK/m5.db" --detach
check "  nothing moved yet" [ "$(keys "ra:$A/m5/")" = "u v " ]
check "ferry worker --until-done" ferry worker --state "$WORK/m5.db" --run 1 --until-done
check "  source empty, destination whole" \
  all '[ "$(keys "ra:$A/m5/")" = "" ]' '[ "$(keys "ra:$B/m5/")" = "u v " ]'
finish
