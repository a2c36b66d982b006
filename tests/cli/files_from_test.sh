#!/usr/bin/env bash
# `ferry cp/sync --files-from LIST` (docs/design/key-lists.md) on the RGW pair: only the listed
# keys are considered, on both sides. A plain list with comments, a gzip list, a CSV list
# (S3 Batch Operations rows, URL-encoded keys), the list from stdin and from an object in a
# bucket; `sync --delete` deletes a listed key the source lacks and never an unlisted one; a
# listed key missing on the source is named and counted, not a failure; a bad line fails the
# run in one line naming file:line with nothing copied; a durable run copies the listed keys.
source "$(dirname "$0")/testlib.bash"
export HOME=$WORK/home  # this test's own HOME (and FERRY_STATE_DIR, testlib's)
mkdir -p "$HOME"
A=$(new_bucket ra)
B=$(new_bucket rb)
mkdir -p "$WORK/src/d" "$WORK/src/e" "$WORK/old/d"
for i in 1 2 3 4 5; do echo "object $i" > "$WORK/src/d/$i"; done
echo "x" > "$WORK/src/e/x"
echo "spaced" > "$WORK/src/s p"
echo "kept" > "$WORK/old/keep"   # unlisted: never touched
echo "kept" > "$WORK/old/9"      # unlisted: never touched
echo "stale" > "$WORK/old/d/9"   # listed by the sync --delete below, not on the source
check "source: 7 objects" ferry cp "$WORK/src" "ra:$A/src/" --no-progress
check "destination: 3 objects" ferry cp "$WORK/old" "rb:$B/dst/" --no-progress
# has KEY: the destination prefix holds KEY (ferry ls prints the key last, after a space)
has() { ferry ls "rb:$B/dst/" 2>/dev/null | grep -q -- " $1\$"; }
count() { ferry ls "rb:$B/dst/" 2>/dev/null | wc -l; }
check "  dst/keep, dst/9, dst/d/9" [ "$(count)" = 3 ]

# A plain list: comments, blank lines, whitespace, a leading '/'; a key the source lacks.
printf '# the first two\n\n  d/1  \n; another comment\n/e/x\nnope\n' > "$WORK/plain.txt"
rc=0; ferry cp "ra:$A/src/" "rb:$B/dst/" --files-from "$WORK/plain.txt" --no-state \
  --no-progress 2> "$WORK/err" || rc=$?
check "plain list: exit 0" [ "$rc" = 0 ]
check "  the listed keys copied" eval 'has d/1 && has e/x'
check "  nothing else" [ "$(count)" = 5 ]
check "  the missing key named" grep -q "listed but not found on the source key=nope" "$WORK/err"
check "  and counted in the summary" grep -q "^1 listed but not found on the source" "$WORK/err"

# A gzip list (found by its bytes, whatever its name).
printf 'd/2\n' | gzip > "$WORK/keys.lst"
check "gzip list" ferry cp "ra:$A/src/" "rb:$B/dst/" --files-from "$WORK/keys.lst" --no-state \
  --no-progress
check "  d/2 copied" has d/2
check "  nothing else" [ "$(count)" = 6 ]

# A CSV list, as S3 Batch Operations has them: bucket,key with the bucket's keys URL-encoded.
printf '%s,src/d/3\n%s,src/s%%20p,\n' "$A" "$A" | gzip > "$WORK/manifest.csv.gz"
check "csv.gz list" ferry cp "ra:$A/src/" "rb:$B/dst/" --files-from "$WORK/manifest.csv.gz" \
  --no-state --no-progress
check "  d/3 and 's p' copied" eval "has d/3 && has 's p'"
check "  nothing else" [ "$(count)" = 8 ]
printf 'other-bucket,src/d/4\n' > "$WORK/other.csv"
check "csv row of another bucket refused, naming file:line" expect_error 2 \
  "other.csv:1: the row names bucket \"other-bucket\"" \
  ferry cp "ra:$A/src/" "rb:$B/dst/" --files-from "$WORK/other.csv" --no-state --no-progress

# From stdin.
check "stdin list" bash -c "printf 'd/4\n' | '$FERRY_BIN' --config '$CONF' cp 'ra:$A/src/' \
  'rb:$B/dst/' --files-from - --no-state --no-progress"
check "  d/4 copied" has d/4
check "  nothing else" [ "$(count)" = 9 ]

# The list itself an object in a bucket (read in ranges), a dry run first.
printf 'd/5\n' > "$WORK/in-bucket.txt"
check "list uploaded" aws_side a s3 cp "$WORK/in-bucket.txt" "s3://$A/lists/keys.txt" --quiet
rc=0; ferry cp "ra:$A/src/" "rb:$B/dst/" --files-from "ra:$A/lists/keys.txt" --dry-run \
  --no-progress > "$WORK/out" 2>&1 || rc=$?
check "dry run from a list in a bucket: exit 0" [ "$rc" = 0 ]
check "  would copy d/5 only" bash -c "grep -q 'would copy key=d/5' '$WORK/out' && \
  [ \"\$(grep -c 'would copy' '$WORK/out')\" = 1 ]"
check "  nothing copied" [ "$(count)" = 9 ]
check "list in a bucket" ferry cp "ra:$A/src/" "rb:$B/dst/" --files-from "ra:$A/lists/keys.txt" \
  --no-state --no-progress
check "  d/5 copied" has d/5
check "  nothing else" [ "$(count)" = 10 ]
check "a missing list object: one line naming it" expect_error 2 "ra:$A/lists/none.txt" \
  ferry cp "ra:$A/src/" "rb:$B/dst/" --files-from "ra:$A/lists/none.txt" --no-state

# sync --delete: a listed key the source lacks is deleted; an unlisted one never.
printf 'd/1\nd/9\n' > "$WORK/delete.txt"
check "sync --delete from a list" ferry sync "ra:$A/src/" "rb:$B/dst/" --delete \
  --files-from "$WORK/delete.txt" --no-state --no-progress
check "  listed d/9 (not on the source) deleted" eval '! has d/9'
check "  unlisted keep and 9 survive" eval 'has keep && has 9'
check "  the rest untouched" [ "$(count)" = 9 ]

# A bad line: exit 2, one line naming file:line, nothing copied.
printf 'd/1\n/\nd/2\n' > "$WORK/bad.txt"
check "a bad line refused" expect_error 2 "bad.txt:2: an empty key" \
  ferry cp "ra:$A/src/" "rb:$B/fresh/" --files-from "$WORK/bad.txt" --no-state --no-progress
check "  nothing copied" [ "$(ferry ls "rb:$B/fresh/" 2>/dev/null | wc -l)" = 0 ]
head -c 40 "$WORK/manifest.csv.gz" > "$WORK/cut.csv.gz"
check "a truncated gzip refused in one line" expect_error 2 "cut.csv.gz: truncated gzip stream" \
  ferry cp "ra:$A/src/" "rb:$B/fresh/" --files-from "$WORK/cut.csv.gz" --no-state --no-progress
check "  nothing copied" [ "$(ferry ls "rb:$B/fresh/" 2>/dev/null | wc -l)" = 0 ]

# A durable run (the default) from a list: the listed keys only (durable_files_from_test.sh kills
# and resumes one).
printf 'd/1\nd/2\n' > "$WORK/durable.txt"
check "durable run from a list" ferry cp "ra:$A/src/" "rb:$B/durable/" \
  --files-from "$WORK/durable.txt" --no-progress
check "  the two listed keys only" [ "$(ferry ls "rb:$B/durable/" 2>/dev/null | wc -l)" = 2 ]
check "--files-from-format alone refused" expect_error 2 "--files-from-format needs --files-from" \
  ferry cp "ra:$A/src/" "rb:$B/dst/" --files-from-format csv --no-state --no-progress
finish
