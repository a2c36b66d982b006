#!/usr/bin/env bash
# ferry-* metadata is a claim any writer can set (docs/design/replication.md, "Claims: what ferry-*
# metadata may decide"), against both RGW gateways with versioned buckets:
#  - an object whose ferry-replica-origin names a bucket the rules do not connect (a third
#    bucket's replica, copied with its metadata) is replicated; a genuine loop A -> B -> A is
#    still stopped by the marks alone (the reverse pass has a state of its own);
#  - a version whose ferry-crc32c its bytes do not match (and no store digest can tell: a
#    multipart ETag in parts of mixed sizes) fails on its own: the key's newer version reaches
#    the destination in the same pass, the forged one is reported with its reason, pass after
#    pass, and is never written; and so through compressed transport, where the rest of its
#    batch is packed without it.
source "$(dirname "$0")/testlib.bash"

A=$(new_bucket ra)
B=$(new_bucket rb)
aws_side a s3api put-bucket-versioning --bucket "$A" --versioning-configuration Status=Enabled >/dev/null
aws_side b s3api put-bucket-versioning --bucket "$B" --versioning-configuration Status=Enabled >/dev/null
trap 'drop_versions ra "$A" --bucket; drop_versions rb "$B" --bucket; cleanup' EXIT

cp "$CONF" "$WORK/ab.toml"
cat >> "$WORK/ab.toml" <<TOML

[[replication.rules]]
id = "ab"
destinations = ["rb:$B"]
TOML
cp "$CONF" "$WORK/ba.toml"
cat >> "$WORK/ba.toml" <<TOML

[[replication.rules]]
id = "ba"
destinations = ["ra:$A"]
TOML
ab() { "$FERRY_BIN" --config "$WORK/ab.toml" replicate "ra:$A" --state "$WORK/ab.db" "$@"; }
ba() { "$FERRY_BIN" --config "$WORK/ba.toml" replicate "rb:$B" --state "$WORK/ba.db" "$@"; }
json_field() {  # json_field FILE FIELD: the summary's number
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# --- 1. marks naming an origin elsewhere (issue 43, item 10)
printf 'copied from a third bucket' > "$WORK/third"
aws_side a s3api put-object --bucket "$A" --key third --body "$WORK/third" \
  --metadata "ferry-replica-origin=rb:elsewhere/,ferry-replica-version=x1,ferry-replica-time=1795369951.000" \
  >/dev/null
printf 'an original of A' > "$WORK/own"
aws_side a s3api put-object --bucket "$A" --key own --body "$WORK/own" >/dev/null
rc=0
ab --json > "$WORK/ab1.json" 2> "$WORK/ab1.err" || rc=$?
check "pass A -> B succeeds" [ "$rc" = 0 ]
check "no replica skipped at A" [ "$(json_field "$WORK/ab1.json" replicas_skipped)" = 0 ]
at_b() { s3_has b "$B" "$1"; }
check "the object whose origin names elsewhere reached B" at_b third
origin=$(aws_side b s3api head-object --bucket "$B" --key third \
  --query 'Metadata."ferry-replica-origin"' --output text 2>/dev/null || true)
check "at B it is marked as A's own write ($origin)" [ "$origin" = "ra:$A/" ]

# the reverse pass, with a state of its own: the marks alone stop the loop
rc=0
ba --json > "$WORK/ba1.json" 2> "$WORK/ba1.err" || rc=$?
check "pass B -> A succeeds" [ "$rc" = 0 ]
check "B's two replicas are skipped" [ "$(json_field "$WORK/ba1.json" replicas_skipped)" = 2 ]
check "nothing replicated back to A" [ "$(json_field "$WORK/ba1.json" replicated)" = 0 ]
versions_of() {  # versions_of a|b BUCKET KEY: how many versions the key has
  aws_side "$1" s3api list-object-versions --bucket "$2" --prefix "$3" \
    --query "length(Versions[?Key=='$3'] || \`[]\`)" --output text
}
check "A holds one version of each key" \
  [ "$(versions_of a "$A" third)$(versions_of a "$A" own)" = 11 ]

# --- 2. a forged ferry-crc32c (issue 43, item 11)
python3 - "$WORK" <<'PY'
import os, sys
w = sys.argv[1]
for name, mib in (("p1", 5), ("p2", 9), ("p3", 9)):  # mixed sizes: no layout proves the ETag
    with open(os.path.join(w, name), "wb") as f:
        f.write(os.urandom(mib << 20))
PY
up=$(aws_side a s3api create-multipart-upload --bucket "$A" --key forged \
  --metadata ferry-crc32c=0badf00d --query UploadId --output text)
parts=""
for n in 1 2 3; do
  etag=$(aws_side a s3api upload-part --bucket "$A" --key forged --upload-id "$up" \
    --part-number "$n" --body "$WORK/p$n" --query ETag --output text)
  parts="$parts{\"PartNumber\":$n,\"ETag\":$etag},"
done
aws_side a s3api complete-multipart-upload --bucket "$A" --key forged --upload-id "$up" \
  --multipart-upload "{\"Parts\":[${parts%,}]}" >/dev/null
printf 'the newer version' > "$WORK/newer"
aws_side a s3api put-object --bucket "$A" --key forged --body "$WORK/newer" >/dev/null

rc=0
ab --json > "$WORK/ab2.json" 2> "$WORK/ab2.err" || rc=$?
check "the pass reports a failure (exit $rc)" [ "$rc" != 0 ]
check "one version failed" [ "$(json_field "$WORK/ab2.json" failed)" = 1 ]
check "the newer version replicated in the same pass" \
  [ "$(json_field "$WORK/ab2.json" replicated)" = 1 ]
aws_side b s3api get-object --bucket "$B" --key forged "$WORK/got" >/dev/null 2>&1 || true
check "B's current object is the newer version" cmp -s "$WORK/got" "$WORK/newer"
check "the forged version was never written to B" [ "$(versions_of b "$B" forged)" = 1 ]
"$FERRY_BIN" --config "$WORK/ab.toml" replicate status --state "$WORK/ab.db" --json \
  > "$WORK/status.json"
check "the failure is the forged version's own, with its reason" python3 - "$WORK/status.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["failures"]
ok = (len(f) == 1 and f[0]["key"] == "forged" and "read twice alike" in f[0]["message"]
      and "ferry-crc32c 0badf00d" in f[0]["message"])
if not ok:
    print("  failures:", f)
sys.exit(0 if ok else 1)
PY
# the next pass reports it again and writes nothing; the newer version is not held back
rc=0
ab --json > "$WORK/ab3.json" 2> "$WORK/ab3.err" || rc=$?
check "the next pass still fails (exit $rc)" [ "$rc" != 0 ]
check "... reporting the forged version again" [ "$(json_field "$WORK/ab3.json" failed)" = 1 ]
check "... and writes nothing" [ "$(json_field "$WORK/ab3.json" replicated)" = 0 ]
check "its log line says why, and how to retry" grep -q 'read twice alike.*--retry-failed' "$WORK/ab3.err"
check "B still holds one version of the key" [ "$(versions_of b "$B" forged)" = 1 ]

# --- 3. the same forged version through compressed transport (issue 43, item 11, the pack's
# path): it fails on its own, recorded with its reason; the key's newer version and another
# key, packed in the same batch, reach the destination. Before, the pack failed on it at every
# attempt ("corrupted on the way") and nothing of the batch arrived.
T=$(new_bucket rb)
STG=$(new_bucket rb)
aws_side b s3api put-bucket-versioning --bucket "$T" --versioning-configuration Status=Enabled >/dev/null
trap 'drop_versions ra "$A" --bucket; drop_versions rb "$B" --bucket; drop_versions rb "$T" --bucket; drop_versions rb "$STG" --bucket; cleanup' EXIT
cp "$CONF" "$WORK/at.toml"
cat >> "$WORK/at.toml" <<TOML

[[replication.rules]]
id = "at"
destinations = [ { location = "rb:$T", transport = { compress = true, staging = "rb:$STG/s", region = "B", level = 3 } } ]
TOML
at() { "$FERRY_BIN" --config "$WORK/at.toml" replicate "ra:$A" --state "$WORK/at.db" "$@"; }
rc=0
at --json > "$WORK/at1.json" 2> "$WORK/at1.err" || rc=$?
check "the transported pass reports a failure (exit $rc)" [ "$rc" != 0 ]
check "... one version failed" [ "$(json_field "$WORK/at1.json" failed)" = 1 ]
at_t() { aws_side b s3api get-object --bucket "$T" --key "$1" "$WORK/t-$1" >/dev/null 2>&1; }
check "the newer version of the forged key was unpacked at the destination" at_t forged
check "... and is the newer version" cmp -s "$WORK/t-forged" "$WORK/newer"
check "the forged version was never written there" [ "$(versions_of b "$T" forged)" = 1 ]
check "the other keys of the batch arrived" at_t own
"$FERRY_BIN" --config "$WORK/at.toml" replicate status --state "$WORK/at.db" --json \
  > "$WORK/at-status.json"
check "the failure is the forged version's own, with its reason" python3 - "$WORK/at-status.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["failures"]
ok = (len(f) == 1 and f[0]["key"] == "forged" and "read twice alike" in f[0]["message"]
      and "ferry-crc32c" in f[0]["message"])
if not ok:
    print("  failures:", f)
sys.exit(0 if ok else 1)
PY

finish
