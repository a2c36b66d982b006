#!/usr/bin/env bash
# Azure Blob Storage as a ferry store (docs/design/azure.md) on Azurite (scripts/azurite-start.sh,
# FERRY_TEST_AZURE_*): RGW -> Azure (a remote with type = "azure") -> local and -> RGW B
# byte-identical with metadata and content headers; az:// locations with the AZURE_STORAGE_*
# convention; a SAS token; a large object through Put Block + Put Block List (its committed
# blocks counted); a copy killed mid large object resumed at block level; `sync --delete` into
# a container; verify; a wrong key and missing credentials
# one line and non-zero; rclone (SAS URL) reading back what ferry wrote.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_AZURE_ENDPOINT:?FERRY_TEST_AZURE_ENDPOINT not set: start scripts/azurite-start.sh}"
: "${FERRY_TEST_AZURE_ACCOUNT:?}" "${FERRY_TEST_AZURE_KEY:?}"
AZ_ACCOUNT=$FERRY_TEST_AZURE_ACCOUNT
export AZ_KEY=$FERRY_TEST_AZURE_KEY

# tests/tools/azure_admin.py: what ferry does not do for Azure yet (create and drop containers),
# an account SAS for ferry's SAS remote and for rclone, and a blob's committed block count.
az() { python3 "$FERRY_TEST_TOOLS/azure_admin.py" "$FERRY_TEST_AZURE_ENDPOINT" "$AZ_ACCOUNT" "$AZ_KEY" "$@"; }
C=ferry-cli-$$-$RANDOM
C2=$C-sync
M=$C-mb
trap 'az rmcontainer "$C" || true; az rmcontainer "$C2" || true; az rmcontainer "$M" || true; cleanup' EXIT
az mkcontainer "$C"
az mkcontainer "$C2"
export AZ_SAS; AZ_SAS=$(az sas)
cat >> "$CONF" <<TOML

[remotes.az]
type = "azure"
account = "$AZ_ACCOUNT"
endpoint = "$FERRY_TEST_AZURE_ENDPOINT"
account_key_env = "AZ_KEY"

[remotes.azsas]
type = "azure"
account = "$AZ_ACCOUNT"
endpoint = "$FERRY_TEST_AZURE_ENDPOINT"
sas_token_env = "AZ_SAS"

[remotes.azbad]
type = "azure"
account = "$AZ_ACCOUNT"
endpoint = "$FERRY_TEST_AZURE_ENDPOINT"
account_key_env = "AZ_BAD_KEY"
TOML

# The source on RGW: small objects, a key with a space and non-ASCII, one object with metadata
# and content headers (written by ferry from a local file), and a 12 MiB object.
mkdir -p "$WORK/src/d" "$WORK/src/é t"
for i in 1 2 3; do echo "object $i" > "$WORK/src/d/$i"; done
echo "spaced" > "$WORK/src/é t/x y"
head -c $((12 << 20)) /dev/urandom > "$WORK/src/big.bin"
mkdir -p "$WORK/meta"
echo "with metadata" > "$WORK/meta/meta.txt"
A=$(new_bucket ra)
B=$(new_bucket rb)
check "source on RGW" ferry cp "$WORK/src" "ra:$A/src/" --no-progress
check "  an object with metadata" ferry cp "$WORK/meta" "ra:$A/src/" --no-progress \
  --metadata owner=bob --metadata team=data --content-type "text/x-test"
cp "$WORK/meta/meta.txt" "$WORK/src/meta.txt"

# RGW -> Azure through the remote; the large object in 5 MiB blocks (Put Block, Put Block List).
check "RGW -> az: (remote, shared key)" ferry cp "ra:$A/src/" "az:$C/copy/" --no-progress \
  --part-size 5MiB --multipart-threshold 5MiB
check "  the large object is 3 committed blocks" \
  [ "$(az blocks committed "$C/copy/big.bin" | cut -d' ' -f1)" = 3 ]
check "  ferry ls lists 6 objects" [ "$(ferry ls "az:$C/copy/" | wc -l)" = 6 ]
check "  verify RGW vs Azure: identical" ferry verify "ra:$A/src/" "az:$C/copy/"

# Azure -> local, byte for byte; Azure -> RGW B keeps metadata and content headers.
check "az: -> local" ferry cp "az:$C/copy/" "$WORK/back" --no-progress
check "  byte-identical with the source" diff -r "$WORK/src" "$WORK/back"
check "az: -> RGW B" ferry cp "az:$C/copy/" "rb:$B/back/" --no-progress
aws_side b s3api head-object --bucket "$B" --key back/meta.txt > "$WORK/head.json" 2>&1 || true
check "  metadata kept through Azure" grep -q '"owner": "bob"' "$WORK/head.json"
check "  content type kept through Azure" grep -q '"ContentType": "text/x-test"' "$WORK/head.json"

# az:// with the AZURE_STORAGE_* convention, and a SAS remote.
check "az:// location (AZURE_STORAGE_ACCOUNT/KEY, FERRY_AZURE_ENDPOINT)" env \
  AZURE_STORAGE_ACCOUNT="$AZ_ACCOUNT" AZURE_STORAGE_KEY="$AZ_KEY" \
  FERRY_AZURE_ENDPOINT="$FERRY_TEST_AZURE_ENDPOINT" "$FERRY_BIN" --config "$CONF" \
  cp "az://$AZ_ACCOUNT/$C/copy/d/" "$WORK/viaurl" --no-progress
check "  the same bytes" diff -r "$WORK/src/d" "$WORK/viaurl"
check "SAS remote lists the copy" [ "$(ferry ls "azsas:$C/copy/" | wc -l)" = 6 ]
check "SAS remote writes" ferry cp "$WORK/meta" "azsas:$C/sas/" --no-progress

# sync --delete into Azure: a key gone from the source is deleted, the rest kept.
check "sync into az:" ferry sync "$WORK/src" "az:$C2/s/" --no-progress
rm "$WORK/src/d/2"
mkdir -p "$WORK/extra"; for i in 1 2 3; do echo "extra $i" > "$WORK/extra/x$i"; done
check "  three blobs the source lacks" ferry cp "$WORK/extra" "az:$C2/s/extra/" --no-progress
check "sync --delete into az: (a Blob Batch of deletes)" env FERRY_CURL_VERBOSE=1 \
  "$FERRY_BIN" --config "$CONF" --log-level debug sync --delete "$WORK/src" "az:$C2/s/" \
  --no-progress 2> "$WORK/batch.log"
check "  d/2 and the three deleted, 5 left" [ "$(ferry ls "az:$C2/s/" | wc -l)" = 5 ]
check "  by one Blob Batch, no Delete Blob alone" \
  [ "$(grep -c '> POST /[^ ]*?restype=[^ ]*&comp=' "$WORK/batch.log"):$(grep -c '> DELETE ' "$WORK/batch.log")" = 1:0 ]
check "  verify local vs Azure: identical" ferry verify "$WORK/src" "az:$C2/s/"

# A copy killed mid large object resumes its upload: the blocks on the store are kept (the
# committed blocks carry the upload id seen before the kill), the rest sent, the bytes identical.
# One part at a time at 4 MiB/s, killed once two parts are on the store.
mkdir -p "$WORK/huge"
head -c $((40 << 20)) /dev/urandom > "$WORK/huge/h.bin"
# the binary itself in the background (not the ferry function's subshell): its pid is killed
"$FERRY_BIN" --config "$CONF" cp --concurrency 1 --part-size 5MiB --multipart-threshold 5MiB \
  --bwlimit 4M "$WORK/huge" "az:$C/kill/" --no-progress > "$WORK/kill.log" 2>&1 &
kill_pid=$!
two_parts_stored() { [ "$(az blocks uncommitted "$C/kill/h.bin" | cut -d' ' -f1)" -ge 3 ]; }
wait_until 30 "two parts on the store before the kill" two_parts_stored
kill -9 "$kill_pid"; wait "$kill_pid" 2>/dev/null || true
upload=$(az blocks uncommitted "$C/kill/h.bin" | cut -d' ' -f2)
check "  nothing visible before the commit" [ -z "$(ferry ls "az:$C/kill/")" ]
rc=0
ferry cp --part-size 5MiB --multipart-threshold 5MiB "$WORK/huge" "az:$C/kill/" --no-progress \
  2> "$WORK/out.resume" || rc=$?
check "resumed after the kill" [ "$rc" = 0 ]
check "  the rerun copied the object" grep -q "1 copied" "$WORK/out.resume"
check "  the upload resumed: 8 committed blocks of upload $upload" \
  [ "$(az blocks committed "$C/kill/h.bin")" = "8 $upload" ]
check "  verify: identical" ferry verify "$WORK/huge" "az:$C/kill/" --download

# Bad credentials and input: one line, non-zero.
export AZ_BAD_KEY=d3Jvbmcga2V5IHdyb25nIGtleQ==
check "a wrong key: one line, exit 1" expect_error 1 "HTTP 403" \
  ferry cp "$WORK/meta" "azbad:$C/bad/" --no-progress
check "no credentials: one line, exit 2" expect_error 2 "no Azure credentials" env \
  -u AZURE_STORAGE_KEY -u AZURE_STORAGE_CONNECTION_STRING -u AZURE_STORAGE_SAS_TOKEN \
  "$FERRY_BIN" --config "$CONF" ls "az://$AZ_ACCOUNT/$C/"
check "a missing container: one line" expect_error 1 "container 'no-such-container' not found" \
  ferry ls "az:no-such-container/"
check "a malformed az:// location: one line" expect_error 2 "malformed location" \
  ferry ls "az://$AZ_ACCOUNT/Bad_Container/"

# rclone (its own Azure client, through a SAS URL) reads back what ferry wrote.
rclone --config /dev/null --retries 1 --low-level-retries 2 copy \
  ":azureblob,sas_url='$FERRY_TEST_AZURE_ENDPOINT?$AZ_SAS':$C/copy" "$WORK/rclone" \
  2> "$WORK/rclone.err" || cat "$WORK/rclone.err"
echo "object 2" > "$WORK/src/d/2"  # the copy was made before d/2 was deleted
check "rclone reads back ferry's copy byte for byte" diff -r "$WORK/src" "$WORK/rclone"
# ferry mb / rb of a container: made, made again refused, one holding a blob kept, an empty one
# removed.
check "mb az: makes a container" ferry mb "az:$M"
check "  again: one line, non-zero" expect_error 1 "ContainerAlreadyExists" ferry mb "az:$M"
check "  a blob in it" ferry cp "$WORK/meta" "az:$M/m/" --no-progress
check "rb of a container holding a blob: refused" expect_error 1 "is not empty (it holds m/" \
  ferry rb "az:$M"
check "  the blob is still there" [ "$(ferry ls "az:$M/" | wc -l)" = 1 ]
mkdir -p "$WORK/empty"
check "  emptied" ferry sync --delete "$WORK/empty" "az:$M/" --no-progress
check "rb of the empty container" ferry rb "az:$M"
check "  gone: a listing says so" expect_error 1 "not found" ferry ls "az:$M/"
finish
