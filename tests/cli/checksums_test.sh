#!/usr/bin/env bash
# S3's additional checksums (x-amz-checksum-*) and the metadata flags of cp/sync against a real
# moto_server (started here on a free port; the test fails when moto_server is missing), which
# keeps and serves checksums that RGW 16 does not: --checksum-algorithm on whole and multipart
# uploads (the values moto holds equal the ones computed here by tests/tools/moto_s3.py, not by
# ferry); a source's declared checksum checked on the way (an object whose MD5 ETag is right but
# whose CRC32 is not is refused, whole or in parts, and nothing is written); a source's
# checksum kept by the copy; --checksum compares by it; --metadata, --content-type and
# --metadata-directive REPLACE on uploads and S3-to-S3 copies; bad flags refused in one line.
source "$(dirname "$0")/testlib.bash"
trap 'kill ${moto_pid:-} 2>/dev/null; wait ${moto_pid:-} 2>/dev/null; cleanup' EXIT
moto_start
m() { python3 "$FERRY_TEST_TOOLS/moto_s3.py" "$MOTO" "$@"; }
expect() { python3 "$FERRY_TEST_TOOLS/moto_s3.py" - expect "$@"; }
# field JSON NAME: one field of a JSON object on stdin ("" when absent)
field() { python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1], ""); print(json.dumps(v) if isinstance(v, dict) else v)' "$1"; }

# two remotes on the same moto: different keys make two clients, so copies between them move
# the bytes through ferry (one remote to itself copies on the server)
export MOTO_KEY2=other MOTO_SECRET2=other
cat >> "$CONF" <<EOT
[remotes.moto2]
endpoint = "$MOTO"
region = "us-east-1"
access_key_id_env = "MOTO_KEY2"
secret_access_key_env = "MOTO_SECRET2"
EOT
for b in up src dst meta; do m mb "chk-$b"; done

mkdir -p "$WORK/files"
for i in 1 2 3; do head -c $((i * 1000 + 7)) /dev/urandom > "$WORK/files/small$i"; done
head -c $((12 * 1024 * 1024 + 5)) /dev/urandom > "$WORK/files/big"
MP="--multipart-threshold 5MiB --part-size 5MiB"

# 1. --checksum-algorithm on uploads: moto holds what ferry sent, which is what this script
#    computes; a multipart upload is composite over its parts (SHA256 has no full-object form)
ferry cp "$WORK/files" moto:chk-up/sha/ --checksum-algorithm sha256 $MP --no-progress >/dev/null 2>&1
check "an upload with --checksum-algorithm SHA256 carries the SHA-256 of each file" \
  test "$(m head chk-up sha/small2 | field ChecksumSHA256)" = "$(expect SHA256 "$WORK/files/small2")"
check "a multipart upload's SHA256 is the composite of its 5MiB parts" \
  test "$(m get chk-up sha/big | field ChecksumSHA256)" = "$(expect SHA256 "$WORK/files/big" 5242880)"
ferry cp "$WORK/files" moto:chk-up/crc/ --checksum-algorithm CRC32 --no-progress >/dev/null 2>&1
check "an upload with --checksum-algorithm CRC32 carries the CRC32 of each file" \
  test "$(m head chk-up crc/small1 | field ChecksumCRC32)" = "$(expect CRC32 "$WORK/files/small1")"
ferry cp "$WORK/files" moto:chk-up/c64/ --include small3 --checksum-algorithm CRC64NVME --no-progress >/dev/null 2>&1
check "an upload with --checksum-algorithm CRC64NVME carries the CRC-64/NVME of the file" \
  test "$(m head chk-up c64/small3 | field ChecksumCRC64NVME)" = "$(expect CRC64NVME "$WORK/files/small3")"
ferry cp "$WORK/files" moto:chk-up/c32c/ --include small3 --checksum-algorithm crc32c --no-progress >/dev/null 2>&1
check "an upload with --checksum-algorithm CRC32C carries the CRC32C of the file" \
  test "$(m head chk-up c32c/small3 | field ChecksumCRC32C)" = "$(expect CRC32C "$WORK/files/small3")"

# objects with composite checksums (a checksum of part checksums) read back intact, whole and
# in parts: never compared with the whole's (no false corruption)
rc=0
ferry sync moto:chk-up/sha "$WORK/back" --json --no-progress > "$WORK/back.json" 2>&1 || rc=$?
check "composite checksums read back in one GET: copied, no false corruption" \
  bash -c "[ $rc = 0 ] && cmp -s '$WORK/back/big' '$WORK/files/big'"
ferry sync moto:chk-up/sha "$WORK/back2" $MP --no-progress >/dev/null 2>&1
check "composite checksums read back in parts: copied, no false corruption" \
  cmp -s "$WORK/back2/big" "$WORK/files/big"

# 2. a source's declared checksum is checked: right CRC32s copy; an object whose bytes do not
#    have the CRC32 it declares (its MD5 ETag is right: moto computed it) is refused, whole or
#    in parts, and nothing is written
m put chk-src good "$WORK/files/small1" CRC32
m put chk-src goodbig "$WORK/files/big" CRC32
m put chk-src bad "$WORK/files/small2" CRC32 "$(expect CRC32 "$WORK/files/small1")"
m put chk-src badbig "$WORK/files/big" CRC32 "$(expect CRC32 "$WORK/files/small1")"
rc=0
ferry sync moto:chk-src "$WORK/down" $MP --json --no-progress > "$WORK/down.json" 2>"$WORK/down.err" || rc=$?
check "a sync from sources whose CRC32 does not match fails (exit 1)" test "$rc" = 1
check "the two good objects, one of them in parts, are copied intact" \
  bash -c "cmp -s '$WORK/down/good' '$WORK/files/small1' && cmp -s '$WORK/down/goodbig' '$WORK/files/big'"
check "nothing is written for the whole object whose CRC32 does not match" test ! -e "$WORK/down/bad"
check "nothing is written for the object in parts whose CRC32 does not match" test ! -e "$WORK/down/badbig"
check "the failures name the CRC32 mismatch" \
  bash -c "python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))[\"failures\"]; sys.exit(0 if len(f)==2 and all(\"CRC32\" in x[\"error\"] for x in f) else 1)' '$WORK/down.json'"
check "the good objects count as verified (none unverified)" \
  test "$(field objects_unverified < "$WORK/down.json")" = 0

# 3. a copy keeps the source's checksum (moto to moto2: the bytes go through ferry, the PUT
#    carries the source's CRC32, which the store checks); --checksum then compares by it
ferry sync moto:chk-src moto2:chk-dst --include good --no-progress >/dev/null 2>&1
ferry cp moto:chk-src moto2:chk-dst --include goodbig $MP --no-progress >/dev/null 2>&1
check "a whole copy keeps the source's CRC32" \
  test "$(m head chk-dst good | field ChecksumCRC32)" = "$(expect CRC32 "$WORK/files/small1")"
check "a copy in parts writes CRC32 too (composite over its parts)" \
  test "$(m get chk-dst goodbig | field ChecksumCRC32)" = "$(expect CRC32 "$WORK/files/big" 5242880)"
ferry cp moto:chk-src moto2:chk-dst/asked/ --include good --checksum-algorithm SHA1 --no-progress >/dev/null 2>&1
check "--checksum-algorithm SHA1 on a copy writes the SHA-1 instead" \
  test "$(m head chk-dst asked/good | field ChecksumSHA1)" = "$(expect SHA1 "$WORK/files/small1")"
ferry sync moto:chk-src moto2:chk-dst --include good --checksum --json --no-progress > "$WORK/again.json" 2>&1
check "a --checksum re-sync finds the copy unchanged" \
  test "$(field objects_copied < "$WORK/again.json")" = 0

# 4. metadata flags: on uploads, and on copies (COPY keeps the source's, REPLACE only the given)
ferry cp "$WORK/files" moto:chk-meta/up/ --include small1 --metadata Owner=team-a --metadata tier=gold \
  --content-type text/x-ferry --no-progress >/dev/null 2>&1
check "--metadata and --content-type are set on an upload" \
  test "$(m head chk-meta up/small1 | python3 -c 'import json,sys; h=json.load(sys.stdin); m=h["Metadata"]; print(m.get("owner"), m.get("tier"), h["ContentType"])')" = "team-a gold text/x-ferry"
ferry cp moto:chk-meta/up/ moto:chk-meta/copied/ --metadata extra=1 --no-progress >/dev/null 2>&1
check "a server-side copy keeps the source's metadata and adds --metadata (COPY)" \
  test "$(m head chk-meta copied/small1 | python3 -c 'import json,sys; h=json.load(sys.stdin); m=h["Metadata"]; print(m.get("owner"), m.get("extra"), h["ContentType"])')" = "team-a 1 text/x-ferry"
ferry cp moto:chk-meta/up/ moto:chk-meta/replaced/ --metadata-directive REPLACE --metadata only=this \
  --content-type application/x-new --no-progress >/dev/null 2>&1
check "--metadata-directive REPLACE keeps only what is given" \
  test "$(m head chk-meta replaced/small1 | python3 -c 'import json,sys; h=json.load(sys.stdin); m={k:v for k,v in h["Metadata"].items() if not k.startswith("ferry-")}; print(sorted(m.items()), h["ContentType"])')" = "[('only', 'this')] application/x-new"
ferry cp moto:chk-meta/replaced/ "$WORK/replaced" --no-progress >/dev/null 2>&1
check "the replaced copy holds the same bytes" cmp -s "$WORK/replaced/small1" "$WORK/files/small1"

# 5. bad input: one line, nothing written
check "an unknown --checksum-algorithm is refused in one line" \
  expect_error 2 "checksum-algorithm.*MD5" ferry cp "$WORK/files" moto:chk-up/x/ --checksum-algorithm MD5
check "--checksum-algorithm to a folder is refused in one line" \
  expect_error 2 "keeps no additional checksums" ferry cp moto:chk-src "$WORK/nope" --checksum-algorithm CRC32
check "a malformed --metadata is refused in one line" \
  expect_error 2 "NAME=VALUE" ferry cp "$WORK/files" moto:chk-up/x/ --metadata novalue
check "--metadata cannot set ferry's own entries" \
  expect_error 2 "ferry-" ferry cp "$WORK/files" moto:chk-up/x/ --metadata ferry-crc32c=00000000
check "a bad --metadata-directive is refused in one line" \
  expect_error 2 "COPY or REPLACE" ferry cp "$WORK/files" moto:chk-up/x/ --metadata-directive MERGE
check "nothing was written by the refused commands" \
  bash -c "test -z \"\$(ls -A '$WORK/nope' 2>/dev/null)\" && ! python3 '$FERRY_TEST_TOOLS/moto_s3.py' '$MOTO' head chk-up x/small1 >/dev/null 2>&1"
finish
