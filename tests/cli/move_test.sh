#!/usr/bin/env bash
# `ferry move` and `--backup-dir` (docs/design/guards.md) on RGW: local -> S3 and S3 -> S3 moves
# leave the source empty and the destination whole; a local source keeps its folders unless
# --delete-empty-src-dirs (then those the move emptied go, never SRC itself); a key the
# destination refuses (a bucket policy) stays on the source, the others move, and a rerun after
# the refusal is lifted finishes; --dry-run changes nothing; --report has a delete-source row per object; a sync with
# --backup-dir --suffix keeps the replaced and the deleted objects' old bytes; refusals in one
# line (an overlapping --backup-dir, --suffix alone, --size-only, a durable backup). A durable move
# (--state): move_durable_test.sh.
# State is checked with ferry itself (ls, cp); one AWS CLI call sets the policy, one drops it.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket ra)
source "$(dirname "$0")/movelib.bash"

echo "# refusals: one line, exit 2, nothing done"
fill "$WORK/r" x
check "--size-only refused" expect_error 2 "--size-only: ferry move deletes a source object only" \
  ferry move "$WORK/r" "ra:$B/r/" --size-only
check "a move into itself refused" expect_error 2 "ferry move: .* overlap" \
  ferry move "ra:$B/r/" "ra:$B/r/sub/"
check "an overlapping --backup-dir refused" expect_error 2 "--backup-dir: .* overlaps the destination" \
  ferry sync "$WORK/r" "ra:$B/d/" --no-state --backup-dir "ra:$B/d/old/"
check "the whole bucket overlaps too" expect_error 2 "overlaps the destination" \
  ferry cp "$WORK/r" "ra:$B/d/" --no-state --backup-dir "ra:$B"
check "--suffix without --backup-dir refused" expect_error 2 "--suffix needs --backup-dir" \
  ferry cp "$WORK/r" "ra:$B/d/" --no-state --suffix .old
check "--backup-dir with --part-jobs-min-parts refused" \
  expect_error 2 "--backup-dir does not go with --part-jobs-min-parts" \
  ferry cp "$WORK/r" "ra:$B/d/" --state "$WORK/r.db" --backup-dir "ra:$B/bak/" --part-jobs-min-parts 4
check "  nothing written" [ "$(keys "ra:$B")" = "" ]
check "  the source file is there" [ "$(files "$WORK/r")" = "x " ]

echo "# 1. local -> S3"
fill "$WORK/m1" a b/c d
check "--dry-run" ferry move "$WORK/m1" "ra:$B/m1/" --dry-run --no-progress
check "  changes nothing" all '[ "$(files "$WORK/m1")" = "a b/c d " ]' '[ "$(keys "ra:$B/m1/")" = "" ]'
check "move with --report" ferry move "$WORK/m1" "ra:$B/m1/" --no-progress --report "$WORK/rep1"
check "  the destination has every object" [ "$(keys "ra:$B/m1/")" = "a b/c d " ]
check "  the source has none" [ "$(files "$WORK/m1")" = "" ]
check "  the report: 3 delete-source rows" \
  [ "$(cat "$WORK/rep1"/part-*.csv | grep -c ',delete-source,ok,')" = 3 ]
ferry cp "ra:$B/m1/" "$WORK/back1" --no-state --no-progress 2>/dev/null
check "  the bytes arrived" [ "$(cat "$WORK/back1/b/c")" = "bytes of b/c" ]

echo "# 1b. a local source's folders: all kept without --delete-empty-src-dirs (rclone's default);"
echo "#     with it, those the move emptied go, never SRC itself nor one that keeps a file"
tree() { # tree DIR: a nested tree (skip.tmp excluded by the moves), and a folder empty before
  fill "$1" top a/x a/b/y keep/c/z keep/c/skip.tmp e/f/g/h
  mkdir -p "$1/pre/empty"
}
tree "$WORK/m6"
check "move without the flag" ferry move "$WORK/m6" "ra:$B/m6/" --no-progress --exclude '*.tmp'
check "  the files moved, the excluded one stays" [ "$(files "$WORK/m6")" = "keep/c/skip.tmp " ]
check "  every folder stays" [ "$(dirs "$WORK/m6")" = "a a/b e e/f e/f/g keep keep/c pre pre/empty " ]
tree "$WORK/m7"
check "move --delete-empty-src-dirs" ferry move "$WORK/m7" "ra:$B/m7/" --no-progress \
  --exclude '*.tmp' --delete-empty-src-dirs
check "  the destination has the moved files" [ "$(keys "ra:$B/m7/")" = "a/b/y a/x e/f/g/h keep/c/z top " ]
check "  the folders the move emptied are gone; the one keeping skip.tmp, its parent and the" \
  [ "$(dirs "$WORK/m7")" = "keep keep/c pre pre/empty " ]
check "  untouched empty one stay, and the source folder itself" [ -d "$WORK/m7" ]
check "--delete-empty-src-dirs from a bucket: nothing more to do, the move is made" \
  ferry move "ra:$B/m7/" "ra:$A/m7/" --no-progress --delete-empty-src-dirs
check "  source empty, destination whole" all '[ "$(keys "ra:$B/m7/")" = "" ]' \
  '[ "$(keys "ra:$A/m7/")" = "a/b/y a/x e/f/g/h keep/c/z top " ]'

echo "# 2. S3 -> S3 (server-side), an identical destination object moves without a copy"
fill "$WORK/m2" p q r
ferry cp "$WORK/m2" "ra:$A/m2/" --no-state --no-progress 2>/dev/null
fill "$WORK/m2q" q
ferry cp "$WORK/m2q" "ra:$B/m2/" --no-state --no-progress 2>/dev/null
rc=0; ferry move "ra:$A/m2/" "ra:$B/m2/" --no-progress --json > "$WORK/out" 2> "$WORK/err" || rc=$?
check "move" [ "$rc" = 0 ]
check "  one object was already there: 2 copied, 3 deleted from the source" all \
  '[ "$(field objects_copied)" = 2 ]' '[ "$(field sources_deleted)" = 3 ]' '[ "$(field command)" = move ]'
check "  source empty, destination whole" all '[ "$(keys "ra:$A/m2/")" = "" ]' '[ "$(keys "ra:$B/m2/")" = "p q r " ]'

echo "# 3. a key the destination refuses stays on the source; a rerun finishes"
fill "$WORK/m3" ok1 deny/no ok2
ferry cp "$WORK/m3" "ra:$A/m3/" --no-state --no-progress 2>/dev/null
cat > "$WORK/deny.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject",
 "Resource":"arn:aws:s3:::$B/m3/deny/*"}]}
JSON
check "deny writes under m3/deny/" aws_side a s3api put-bucket-policy --bucket "$B" --policy "file://$WORK/deny.json"
rc=0; ferry move "ra:$A/m3/" "ra:$B/m3/" --no-progress 2> "$WORK/err" || rc=$?
check "  the move fails (exit 1)" [ "$rc" = 1 ]
check "  the refused key is named" grep -q "failed: copy deny/no" "$WORK/err"
check "  it stays on the source, the others moved" [ "$(keys "ra:$A/m3/")" = "deny/no " ]
check "  the destination has the others" [ "$(keys "ra:$B/m3/")" = "ok1 ok2 " ]
check "lift the refusal" aws_side a s3api delete-bucket-policy --bucket "$B"
check "the rerun finishes" ferry move "ra:$A/m3/" "ra:$B/m3/" --no-progress
check "  source empty, destination whole" all '[ "$(keys "ra:$A/m3/")" = "" ]' '[ "$(keys "ra:$B/m3/")" = "deny/no ok1 ok2 " ]'

echo "# 3b. --files-from: only the listed keys move"
fill "$WORK/m5" one two three
printf 'one\nthree\n' > "$WORK/list5"
check "move --files-from" ferry move "$WORK/m5" "ra:$B/m5/" --files-from "$WORK/list5" --no-progress
check "  the listed keys moved, the other stays" all '[ "$(files "$WORK/m5")" = "two " ]' \
  '[ "$(keys "ra:$B/m5/")" = "one three " ]'

echo "# 4. --backup-dir keeps what a sync replaces and deletes"
fill "$WORK/old4" keep change gone
fill "$WORK/new4" keep change
echo "new bytes of change" > "$WORK/new4/change"
ferry cp "$WORK/old4" "ra:$B/d4/" --no-state --no-progress 2>/dev/null
check "sync --delete --backup-dir --suffix" ferry sync "$WORK/new4" "ra:$B/d4/" --delete --no-state \
  --no-progress --backup-dir "ra:$B/bak4/" --suffix .old
check "  the destination is the source" [ "$(keys "ra:$B/d4/")" = "change keep " ]
check "  the backup has the replaced and the deleted object" [ "$(keys "ra:$B/bak4/")" = "change.old gone.old " ]
ferry cp "ra:$B/bak4/" "$WORK/back4" --no-state --no-progress 2>/dev/null
check "  with their old bytes" all '[ "$(cat "$WORK/back4/change.old")" = "bytes of change" ]' \
  '[ "$(cat "$WORK/back4/gone.old")" = "bytes of gone" ]'

echo "# 5. --backup-dir on a durable run (--state, then --detach and ferry worker)"
fill "$WORK/old5" keep change gone1 gone2
fill "$WORK/new5" keep change
echo "new bytes of change" > "$WORK/new5/change"
ferry cp "$WORK/old5" "ra:$B/d5/" --no-state --no-progress 2>/dev/null
rc=0; ferry sync "$WORK/new5" "ra:$B/d5/" --delete --state "$WORK/s5.db" --no-progress --json \
  --backup-dir "ra:$A/bak5/" --suffix .old > "$WORK/out" 2> "$WORK/err" || rc=$?
check "sync --delete --state --backup-dir" [ "$rc" = 0 ]
check "  the destination is the source" [ "$(keys "ra:$B/d5/")" = "change keep " ]
check "  the backup (another bucket) has the replaced and the deleted objects" \
  [ "$(keys "ra:$A/bak5/")" = "change.old gone1.old gone2.old " ]
check "  counted" [ "$(field backups_kept)" = 3 ]
ferry cp "ra:$A/bak5/" "$WORK/back5" --no-state --no-progress 2>/dev/null
check "  with their old bytes" all '[ "$(cat "$WORK/back5/change.old")" = "bytes of change" ]' \
  '[ "$(cat "$WORK/back5/gone2.old")" = "bytes of gone2" ]'
echo "another change" > "$WORK/new5/change"
check "sync --detach --backup-dir" ferry sync "$WORK/new5" "ra:$B/d5/" --state "$WORK/s6.db" \
  --detach --backup-dir "ra:$A/bak6/"
check "  nothing replaced yet" [ "$(keys "ra:$A/bak6/")" = "" ]
check "ferry worker runs it, keeping first" ferry worker --state "$WORK/s6.db" --run 1 --until-done
check "  the backup has the replaced object" [ "$(keys "ra:$A/bak6/")" = "change " ]
ferry cp "ra:$A/bak6/" "$WORK/back6" --no-state --no-progress 2>/dev/null
check "  with the bytes it replaced" [ "$(cat "$WORK/back6/change")" = "new bytes of change" ]
finish
