#!/usr/bin/env bash
# ferry verify and S3's additional checksums (x-amz-checksum-*) on a moto_server (started here
# on a free port; the test fails when moto_server is missing). RGW 16 keeps none.
#  1. Two copies of the same bytes in different multipart layouts (5 and 6 MiB parts: ETags
#     that do not decide) with a full-object CRC64NVME (the only algorithm whose value moto's
#     HEAD lets ferry take for the whole object: moto's HEAD names neither type nor "-N"): the
#     checksums decide after the HEADs, without reading or asking a layout; a one-byte change
#     (same size, different layout) is found the same way.
#  2. The same against a local folder: the file is read (cheap) and checked against the
#     bucket's CRC64NVME, with no layout asked.
#  3. Composite SHA256 values of two layouts of the same bytes (moto gives them without "-N"):
#     never compared, no false alarm: the layout decides from one read.
#  4. Whole objects put with --checksum-algorithm CRC32 / SHA256 by the SDK: the MD5 ETags
#     decide first, no HEAD.
source "$(dirname "$0")/testlib.bash"
trap 'kill ${moto_pid:-} 2>/dev/null; wait ${moto_pid:-} 2>/dev/null; cleanup' EXIT
moto_start
m() { python3 "$FERRY_TEST_TOOLS/moto_s3.py" "$MOTO" "$@"; }
MiB=$((1024 * 1024))
mkdir -p "$WORK/files" "$WORK/local"
head -c $((13 * MiB + 5)) /dev/urandom > "$WORK/files/big"
cp "$WORK/files/big" "$WORK/files/big2"
# one byte changed in the middle of the second part: same size
printf '\x5a' | dd of="$WORK/files/big2" bs=1 seek=$((7 * MiB + 3)) conv=notrunc status=none
check "the changed copy differs in one byte" bash -c "! cmp -s '$WORK/files/big' '$WORK/files/big2'"
head -c 3000 /dev/urandom > "$WORK/files/small"
for b in vck-a vck-b; do m mb "$b"; done

up() {  # up FILE DEST PART_MIB ALGORITHM
  ferry cp "$1" "$2" --checksum-algorithm "$4" --multipart-threshold 5MiB --part-size "$3MiB" \
    --no-progress > /dev/null 2>&1
}
check "upload same (5 MiB parts, CRC64NVME)" up "$WORK/files/big" moto:vck-a/same 5 CRC64NVME
check "upload same (6 MiB parts, CRC64NVME)" up "$WORK/files/big" moto:vck-b/same 6 CRC64NVME
check "upload changed, original (5 MiB parts)" up "$WORK/files/big" moto:vck-a/changed 5 CRC64NVME
check "upload changed, one byte off (6 MiB parts)" up "$WORK/files/big2" moto:vck-b/changed 6 CRC64NVME
field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }
ea=$(m head vck-a same | field ETag) eb=$(m head vck-b same | field ETag)
check "the two layouts give two multipart ETags with 3 parts ($ea, $eb)" \
  bash -c "[ '$ea' != '$eb' ] && [ '${ea##*-}' = 3 ] && [ '${eb##*-}' = 3 ]"
ca=$(m head vck-a same | field ChecksumCRC64NVME) cb=$(m head vck-b same | field ChecksumCRC64NVME)
check "moto serves a CRC64NVME for both ($ca, $cb)" bash -c "[ -n '$ca' ] && [ -n '$cb' ]"
m put vck-a small-sha "$WORK/files/small" SHA256
m put vck-b small-sha "$WORK/files/small" SHA256
m put vck-a small-crc "$WORK/files/small" CRC32
m put vck-b small-crc "$WORK/files/small" CRC32

# v SRC DST ARGS...: runs ferry verify --json; report in $WORK/report, stderr in $WORK/summary
v() { RC_=0; ferry verify "$@" --json > "$WORK/report" 2> "$WORK/summary" || RC_=$?; }
# entry KEY FIELD: a field of KEY's JSON line
entry() { python3 -c '
import json, sys
for line in open(sys.argv[1]):
    j = json.loads(line)
    if j["key"] == sys.argv[2]:
        print(j[sys.argv[3]])' "$WORK/report" "$1" "$2"; }

# 1. bucket against bucket: decided by the checksums, nothing read
v moto:vck-a moto:vck-b
check "1. exit 1 (a difference)" [ "$RC_" = 1 ]
check "  same: identical" [ "$(entry same result)" = identical ]
check "  same: by the CRC64NVME" [ "$(entry same reason)" = checksum-crc64nvme ]
check "  changed: differ" [ "$(entry changed result)" = differ ]
check "  changed: by the CRC64NVME" [ "$(entry changed reason)" = checksum-crc64nvme ]
check "  whole objects with SHA256/CRC32: identical by their MD5 ETags" \
  [ "$(entry small-sha result) $(entry small-sha reason) $(entry small-crc result) $(entry small-crc reason)" = "identical md5 identical md5" ]
check "  summary: 3 identical, 1 differ" grep -q "^verify: 3 identical, 1 differ, 0 missing, 0 extra, 0 errors, 0 size-only" "$WORK/summary"
check "  no object read, no layout asked, 4 HEADs (the two multipart pairs)" \
  grep -q "^verify: 4 HEADs, 0 layout asks, 0 objects read (0 bytes)" "$WORK/summary"

# the same pair without the checksums (uploads without --checksum-algorithm): one read each
for b in vck-c vck-d; do m mb "$b"; done
ferry cp "$WORK/files/big" moto:vck-c/changed --multipart-threshold 5MiB --part-size 5MiB --no-progress >/dev/null 2>&1
ferry cp "$WORK/files/big2" moto:vck-d/changed --multipart-threshold 5MiB --part-size 6MiB --no-progress >/dev/null 2>&1
v moto:vck-c moto:vck-d --download
check "  without checksums the change costs reads (--download: content)" \
  [ "$RC_ $(entry changed result) $(entry changed reason)" = "1 differ content" ]
check "  two objects read" grep -q "2 objects read" "$WORK/summary"

# 2. bucket against a local folder: the file is read and checked against the CRC64NVME
cp "$WORK/files/big" "$WORK/local/same"
cp "$WORK/files/big2" "$WORK/local/changed"
cp "$WORK/files/small" "$WORK/local/small-sha"
cp "$WORK/files/small" "$WORK/local/small-crc"
v moto:vck-a "$WORK/local"
check "2. local: exit 1" [ "$RC_" = 1 ]
check "  same: identical by the CRC64NVME" \
  [ "$(entry same result) $(entry same reason)" = "identical checksum-crc64nvme" ]
check "  changed: differ by the CRC64NVME" \
  [ "$(entry changed result) $(entry changed reason)" = "differ checksum-crc64nvme" ]
check "  no layout asked; the four files read (the small ones against their MD5s)" \
  grep -q "0 layout asks, 4 objects read" "$WORK/summary"

# 3. composite SHA256 over two layouts of the same bytes: never compared; the layout decides
for b in vck-e vck-f; do m mb "$b"; done
check "upload sha (5 MiB parts, SHA256)" up "$WORK/files/big" moto:vck-e/sha 5 SHA256
check "upload sha (6 MiB parts, SHA256)" up "$WORK/files/big" moto:vck-f/sha 6 SHA256
v moto:vck-e moto:vck-f
check "3. composite values of two layouts: exit 0, no false alarm" [ "$RC_" = 0 ]
check "  identical by the layout" [ "$(entry sha result) $(entry sha reason)" = "identical layout" ]

finish
