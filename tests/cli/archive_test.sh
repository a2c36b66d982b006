#!/usr/bin/env bash
# ferry archive pack|ls|cat end to end: a generated local tree (text, random bytes, an entry
# larger than the shared-frame limit, an empty file, hostile names) packed into a local
# archive, listed, and every entry read back byte for byte; an S3 prefix with metadata, content
# headers and tags packed into an archive object on S3, listed with its metadata and read back
# by ranged reads; one-line errors for truncated, foreign and bad input.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
aws_a() {
  AWS_ACCESS_KEY_ID=$RA_KEY AWS_SECRET_ACCESS_KEY=$RA_SECRET AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION:-region-a} \
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" "$AWS_CLI" --endpoint-url "$FERRY_TEST_S3_ENDPOINT" "$@" >/dev/null
}
T=$WORK/tree
mkdir -p "$T/logs" "$T/données/ünï" "$T/deep/a/b/c"
seq 1 400000 | sed 's/$/,region-a,2026-11-22T10:00:00Z,ok/' > "$T/logs/big.csv"  # ~12 MiB
head -c 2000000 /dev/urandom > "$T/random.bin"
for i in $(seq 1 60); do echo "{\"id\":$i,\"name\":\"user$i\"}" > "$T/deep/a/b/c/$i.json"; done
echo "accents" > "$T/données/ünï/fichier été.txt"
printf 'two\nlines' > "$T/line
break.txt"
: > "$T/empty"

check "pack a local tree" ferry archive pack "$T" "$WORK/t.fza" --level 3
# One summary line for the user; the writer's stage timings only at --log-level debug.
ferry archive pack "$T/deep" "$WORK/d.fza" 2> "$WORK/pack.err"
check "  pack says one line" [ "$(wc -l < "$WORK/pack.err")" = 1 ]
check "  and it is the summary" grep -q '^packed 60 objects' "$WORK/pack.err"
ferry --log-level debug archive pack "$T/deep" "$WORK/d.fza" 2> "$WORK/pack.err"
check "  --log-level debug adds the writer's stages" \
  grep -q 'debug: writer thread stages listing_s=.* writing_s=' "$WORK/pack.err"
ferry archive ls "$WORK/t.fza" > "$WORK/ls"
NFILES=$(find "$T" -type f -printf x | wc -c)
check "ls lists every file" [ "$(wc -l < "$WORK/ls")" = "$NFILES" ]
check "ls escapes a newline in a key" grep -q 'line\\x0abreak.txt' "$WORK/ls"
check "the big file spans one frame of its own" grep -qE ' 1 logs/big.csv$' "$WORK/ls"
all_same() {
  local f key
  while IFS= read -r -d '' f; do
    key=${f#"$T"/}
    ferry archive cat "$WORK/t.fza" "$key" > "$WORK/one" || return 1
    cmp -s "$WORK/one" "$f" || { echo "  differs: $key"; return 1; }
  done < <(find "$T" -type f ! -name '[2-9]*.json' -print0)  # not 50 alike JSON files
}
check "cat gives back every file byte for byte" all_same
check "the archive is smaller than the tree" \
  [ "$(stat -c %s "$WORK/t.fza")" -lt "$(( $(du -sb "$T" | cut -f1) / 2 ))" ]

# A folder listed in several batches (256, 512, 1024, ... objects, the next one listed while
# the last one packs): every file once, in listing order, each with its own bytes.
M=$WORK/many
mkdir -p "$M"
for i in $(seq 1 1500); do printf 'file %d %0*d\n' "$i" $((i % 97)) 0 > "$M/$(printf 'f%05d' "$i")"; done
check "pack a folder of 1,500 files" ferry archive pack "$M" "$WORK/many.fza" --level 1
ferry archive ls "$WORK/many.fza" | awk '{print $1, $4}' > "$WORK/many.ls"
(cd "$M" && find . -type f -printf '%s %P\n' | LC_ALL=C sort -k2) > "$WORK/many.want"
check "  every file listed once, with its size, in order" cmp -s "$WORK/many.ls" "$WORK/many.want"
many_same() {
  local i f
  for i in 1 256 257 768 769 1500; do
    f=$(printf 'f%05d' "$i")
    ferry archive cat "$WORK/many.fza" "$f" | cmp -s - "$M/$f" || { echo "  differs: $f"; return 1; }
  done
}
check "  files at batch edges read back byte for byte" many_same

# S3 source with metadata, content headers and tags -> archive object on S3
printf 'hello metadata' > "$WORK/m.txt"
check "put an object with metadata" aws_a s3api put-object --bucket "$A" --key data/m.txt \
  --body "$WORK/m.txt" --content-type text/x-test --cache-control max-age=9 \
  --metadata owner=ops,team=data --tagging 'k1=v1&k2=v2' --output text
check "copy the tree to S3" ferry cp "$T" "ra:$A/data/tree" --no-progress
check "pack an S3 prefix into an archive object" ferry archive pack "ra:$A/data" "ra:$A/arch/x.fza"
ferry archive ls "ra:$A/arch/x.fza" --json > "$WORK/ls.json"
meta() { python3 -c "
import json
for l in open('$WORK/ls.json'):
    d = json.loads(l)
    if d['key'] == 'm.txt': print(d$1)"; }
check "metadata kept" [ "$(meta "['metadata']['owner']")" = ops ]
check "content type kept" [ "$(meta "['content_type']")" = text/x-test ]
check "cache control kept" [ "$(meta "['cache_control']")" = max-age=9 ]
check "tags kept" [ "$(meta "['tags']")" = "[['k1', 'v1'], ['k2', 'v2']]" ]
check "S3 archive holds every object" [ "$(wc -l < "$WORK/ls.json")" = "$((NFILES + 1))" ]
check "cat from the S3 archive" bash -c "'$FERRY_BIN' --config '$CONF' archive cat 'ra:$A/arch/x.fza' \
  tree/logs/big.csv | cmp -s - '$T/logs/big.csv'"

check "an archive written inside the packed folder leaves itself out" \
  ferry archive pack "$T" "$T/self.fza"
check "  and lists the other files only" [ "$(ferry archive ls "$T/self.fza" | wc -l)" = "$NFILES" ]
rm -f "$T/self.fza"

# errors: one line each
head -c 5000 "$WORK/t.fza" > "$WORK/cut.fza"
check "truncated archive refused" expect_error 1 "truncated or corrupt archive" \
  ferry archive ls "$WORK/cut.fza"
check "foreign file refused" expect_error 1 "not a ferry archive" ferry archive ls "$T/logs/big.csv"
check "missing entry" expect_error 1 "no entry nope" ferry archive cat "$WORK/t.fza" nope
check "bad level" expect_error 2 "compression level" ferry archive pack "$T" "$WORK/l.fza" --level 40
check "no partial archive left after a refused pack" [ ! -e "$WORK/l.fza" ]
check "missing archive" expect_error 1 "cannot open" ferry archive ls "$WORK/none.fza"
finish
