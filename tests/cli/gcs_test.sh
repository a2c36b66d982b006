#!/usr/bin/env bash
# Google Cloud Storage as a ferry store (docs/design/gcs.md) on the firebase-tools emulator
# (scripts/gcs-emulator-start.sh, FERRY_TEST_GCS_ENDPOINT; test-all.sh starts it): RGW -> GCS (a
# remote with type = "gcs") -> local byte-identical, metadata and content headers kept through
# GCS to RGW B; gs:// locations with STORAGE_EMULATOR_HOST; a 12 MiB object as one resumable
# upload of three 5 MiB chunks; `sync --delete` into a bucket; verify; a copy killed mid large
# object resumed from the bytes its session kept; a malformed key file, no
# credentials, a missing bucket (buckets `ferry-missing-*`: the emulator makes every other one)
# and a malformed gs:// location one line each and non-zero; rclone (its own GCS client) reading
# back what ferry wrote; server-side copies within GCS (objects.rewrite).
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_GCS_ENDPOINT:?FERRY_TEST_GCS_ENDPOINT not set: start scripts/gcs-emulator-start.sh}"
GCS=$FERRY_TEST_GCS_ENDPOINT
# the emulator keeps everything in memory and makes a bucket at its first request: no cleanup
G=ferry-cli-$$-$RANDOM
trap cleanup EXIT
cat >> "$CONF" <<TOML

[remotes.g]
type = "gcs"
endpoint = "$GCS"
anonymous = true
TOML
# an object's resource as the emulator keeps it (JSON)
gcs_resource() { curl -sf "$GCS/storage/v1/b/$G/o/${1//\//%2F}"; }

# The source on RGW: small objects, a key with a space and non-ASCII, one object with metadata
# and content headers (written by ferry from a local file), and a 12 MiB object.
mkdir -p "$WORK/src/d" "$WORK/src/é t" "$WORK/meta"
for i in 1 2 3; do echo "object $i" > "$WORK/src/d/$i"; done
echo "spaced" > "$WORK/src/é t/x y"
head -c $((12 << 20)) /dev/urandom > "$WORK/src/big.bin"
echo "with metadata" > "$WORK/meta/meta.txt"
A=$(new_bucket ra)
B=$(new_bucket rb)
check "source on RGW" ferry cp "$WORK/src" "ra:$A/src/" --no-progress
check "  an object with metadata" ferry cp "$WORK/meta" "ra:$A/src/" --no-progress \
  --metadata owner=bob --metadata team=data --content-type "text/x-test"
cp "$WORK/meta/meta.txt" "$WORK/src/meta.txt"

# RGW -> GCS through the remote; the large object in 5 MiB chunks of one resumable upload.
# (the requests' headers traced: each chunk's Content-Range)
check "RGW -> g: (remote)" env FERRY_CURL_VERBOSE=1 "$FERRY_BIN" --config "$CONF" \
  --log-level debug cp "ra:$A/src/" "g:$G/copy/" --no-progress \
  --part-size 5MiB --multipart-threshold 5MiB 2> "$WORK/trace.log"
check "  the large object: three chunks of one session" \
  [ "$(grep -c '> Content-Range: bytes [0-9]' "$WORK/trace.log")" = 3 ]
check "  the last names the size" grep -q "> Content-Range: bytes 10485760-12582911/12582912" \
  "$WORK/trace.log"
check "  ferry ls lists 6 objects" [ "$(ferry ls "g:$G/copy/" | wc -l)" = 6 ]
check "  the large object has its 12 MiB" \
  grep -q "\"size\":\"$((12 << 20))\"" <(gcs_resource copy/big.bin)
gcs_resource copy/meta.txt > "$WORK/meta.json" || true
check "  metadata on GCS" grep -q '"owner":"bob"' "$WORK/meta.json"
check "  content type on GCS" grep -q '"contentType":"text/x-test"' "$WORK/meta.json"
check "  verify RGW vs GCS: identical" ferry verify "ra:$A/src/" "g:$G/copy/"

# GCS -> local, byte for byte; GCS -> RGW B keeps metadata and content headers.
check "g: -> local" ferry cp "g:$G/copy/" "$WORK/back" --no-progress
check "  byte-identical with the source" diff -r "$WORK/src" "$WORK/back"
# rclone (its own GCS client, anonymous at the emulator's JSON API) reads back what ferry wrote:
# the bytes, the MD5s it compares with the source's, and a content type ferry set.
RG=":googlecloudstorage,anonymous=true,endpoint='$GCS/storage/v1/':$G/copy"
rclone --config /dev/null --retries 1 --low-level-retries 2 copy "$RG" "$WORK/rclone" \
  2> "$WORK/rclone.err" || cat "$WORK/rclone.err"
check "rclone reads back ferry's copy byte for byte" diff -r "$WORK/src" "$WORK/rclone"
check "  rclone check: the MD5s match the source's" \
  rclone --config /dev/null --retries 1 check "$WORK/src" "$RG"
check "  rclone sees the content type" \
  grep -q '"MimeType":"text/x-test"' <(rclone --config /dev/null lsjson "$RG/meta.txt")
check "g: -> RGW B" ferry cp "g:$G/copy/" "rb:$B/back/" --no-progress
aws_side b s3api head-object --bucket "$B" --key back/meta.txt > "$WORK/head.json" 2>&1 || true
check "  metadata kept through GCS" grep -q '"owner": "bob"' "$WORK/head.json"
check "  content type kept through GCS" grep -q '"ContentType": "text/x-test"' "$WORK/head.json"

# Within GCS: server-side copies (objects.rewrite), metadata kept, no object read by ferry.
# (An emulator started before launch.js served rewriteTo at GCS's path answers 501: ferry then
# copies through itself, which is all this can check there.)
check "g: -> g: (server-side)" env FERRY_CURL_VERBOSE=1 "$FERRY_BIN" --config "$CONF" \
  --log-level debug cp "g:$G/copy/" "g:$G/ssc/" --no-progress --json > "$WORK/ssc.json" \
  2> "$WORK/ssc.log"
check "  6 server-side copies" grep -q '"server_side_copies": 6' "$WORK/ssc.json"
if [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
       "$GCS/storage/v1/b/$G/o/none/rewriteTo/b/$G/o/none2")" != 501 ]; then
  check "  by objects.rewrite" grep -q '> POST /storage/v1/b/[^ ]*/rewriteTo/' "$WORK/ssc.log"
  check "  no object read through ferry" [ -z "$(grep 'alt=media' "$WORK/ssc.log")" ]
fi
check "  metadata kept" grep -q '"owner":"bob"' <(gcs_resource ssc/meta.txt)
check "  verify copy vs ssc: identical" ferry verify "g:$G/copy/" "g:$G/ssc/" --download

# gs:// with the STORAGE_EMULATOR_HOST convention of Google's client libraries.
check "gs:// location (STORAGE_EMULATOR_HOST)" env STORAGE_EMULATOR_HOST="${GCS#http://}" \
  "$FERRY_BIN" --config "$CONF" cp "gs://$G/copy/d/" "$WORK/viaurl" --no-progress
check "  the same bytes" diff -r "$WORK/src/d" "$WORK/viaurl"

# sync --delete into GCS: a key gone from the source is deleted, the rest kept.
check "sync into g:" ferry sync "$WORK/src" "g:$G/s/" --no-progress
rm "$WORK/src/d/2"
check "sync --delete into g:" ferry sync --delete "$WORK/src" "g:$G/s/" --no-progress
check "  d/2 deleted, 5 left" [ "$(ferry ls "g:$G/s/" | wc -l)" = 5 ]
check "  verify local vs GCS: identical" ferry verify "$WORK/src" "g:$G/s/"

# A copy killed mid large object resumes its session: the bytes GCS kept are not sent again (the
# rerun's first chunk starts past them), the rest is, the bytes identical. One chunk at a time at
# 8 MiB/s (each chunk's request is sent once the one before was answered), killed once a third
# is under way: at least two are kept.
mkdir -p "$WORK/huge"
head -c $((30 << 20)) /dev/urandom > "$WORK/huge/h.bin"
# the binary itself in the background (not the ferry function's subshell): its pid is killed
FERRY_CURL_VERBOSE=1 "$FERRY_BIN" --config "$CONF" --log-level debug cp --concurrency 1 \
  --part-size 5MiB --multipart-threshold 5MiB --bwlimit 8M "$WORK/huge" "g:$G/kill/" \
  --no-progress 2> "$WORK/kill.log" &
kill_pid=$!
third_chunk_sent() { [ "$(grep -c '> Content-Range: bytes [0-9]' "$WORK/kill.log")" -ge 3 ]; }
wait_until 30 "two chunks kept before the kill" third_chunk_sent
kill -9 "$kill_pid"; wait "$kill_pid" 2>/dev/null || true
check "  nothing visible before the session ends" [ "$(ferry ls "g:$G/kill/"; echo "rc=$?")" = rc=0 ]
check "resumed after the kill" env FERRY_CURL_VERBOSE=1 "$FERRY_BIN" --config "$CONF" \
  --log-level debug cp --part-size 5MiB --multipart-threshold 5MiB "$WORK/huge" "g:$G/kill/" \
  --no-progress 2> "$WORK/resume.log"
check "  the rerun copied the object" grep -q "1 copied" "$WORK/resume.log"
check "  the session was asked where it stands" grep -q '> Content-Range: bytes \*/\*' \
  "$WORK/resume.log"
check "  no byte GCS kept was sent again" \
  [ -z "$(grep -E '> Content-Range: bytes (0|5242880)-' "$WORK/resume.log")" ]
check "  verify: identical" ferry verify "$WORK/huge" "g:$G/kill/" --download

# Bad credentials and input: one line, non-zero.
echo '{"type": "authorized_user"}' > "$WORK/user.json"
check "a key file that is no service account key: one line, exit 2" expect_error 2 \
  "only service account keys" env -u STORAGE_EMULATOR_HOST \
  GOOGLE_APPLICATION_CREDENTIALS="$WORK/user.json" "$FERRY_BIN" --config "$CONF" ls "gs://$G/"
check "no credentials: one line, exit 2" expect_error 2 "no GCS credentials" env \
  -u STORAGE_EMULATOR_HOST -u GOOGLE_APPLICATION_CREDENTIALS \
  "$FERRY_BIN" --config "$CONF" ls "gs://$G/"
check "a missing bucket: one line" expect_error 1 "bucket 'ferry-missing-x' not found" \
  ferry ls "g:ferry-missing-x/"
check "a malformed gs:// location: one line" expect_error 2 "malformed location" \
  ferry ls "gs://Bad_Bucket/"
finish
