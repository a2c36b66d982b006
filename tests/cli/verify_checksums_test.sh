#!/usr/bin/env bash
# ferry verify and S3's additional checksums (x-amz-checksum-*) on a moto_server (started here
# on a free port; the test fails when moto_server is missing). RGW 16 keeps none.
#
# moto's HEAD of a multipart object names neither the checksum's type nor its "-N" part count,
# so ferry takes no multipart value of it for the whole object's (the ambiguity rule, docs/
# design/verify.md §2), and the CRC64NVME it serves is a 4-byte CRC32 (malformed: ignored).
# What the checksum row decides without any read is proven on memory stores whose HEADs
# declare full-object values (src/verify/verify_test.cc,
# RunVerifyTest.FullObjectChecksumsDecideTwoLayoutsWithoutARead) and in compare_test. Here:
#  1. ferry's uploads with CRC64NVME in 5 and 6 MiB parts: no false alarm from moto's values;
#     a one-byte change (same size, other layout) is never identical (size only: moto tells no
#     layout, and ferry's own CRC32C is a claim that decides nothing, integrity.md §8), and
#     --download finds it.
#  2. aws s3 cp uploads with SHA256 and CRC32 in 8 and 5 MiB parts (composite values over each
#     side's parts, of the same bytes: they differ): never compared, no false alarm, the layout
#     decides from one read; a one-byte change is never "identical", and --download finds it.
#  3. Whole objects put with a CRC32 / SHA256 by the SDK: their MD5 ETags decide, no HEAD.
source "$(dirname "$0")/testlib.bash"
trap 'kill ${moto_pid:-} 2>/dev/null; wait ${moto_pid:-} 2>/dev/null; cleanup' EXIT
moto_start
m() { python3 "$FERRY_TEST_TOOLS/moto_s3.py" "$MOTO" "$@"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }
flip() {  # flip FILE OFFSET: one byte changed in place
  python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xFF]))' "$1" "$2"
}
MiB=$((1024 * 1024))
mkdir -p "$WORK/A" "$WORK/B"
head -c $((13 * MiB + 5)) /dev/urandom > "$WORK/A/same"
cp "$WORK/A/same" "$WORK/A/changed"
cp "$WORK/A/same" "$WORK/B/same"
cp "$WORK/A/same" "$WORK/B/changed"
flip "$WORK/B/changed" $((7 * MiB + 3))
check "the changed copy differs in one byte, same size" \
  bash -c "! cmp -s '$WORK/A/changed' '$WORK/B/changed' && [ \$(stat -c %s '$WORK/B/changed') = $((13 * MiB + 5)) ]"
head -c 3000 /dev/urandom > "$WORK/small"
for b in vck-a vck-b vck-c vck-d; do m mb "$b"; done

# v SRC DST ARGS...: runs ferry verify --json; report in $WORK/report, stderr in $WORK/summary
v() { RC_=0; ferry verify "$@" --json > "$WORK/report" 2> "$WORK/summary" || RC_=$?; }
# entry KEY FIELD: a field of KEY's JSON line
entry() { python3 -c '
import json, sys
for line in open(sys.argv[1]):
    j = json.loads(line)
    if j["key"] == sys.argv[2]:
        print(j[sys.argv[3]])' "$WORK/report" "$1" "$2"; }

# 1. ferry's uploads, CRC64NVME, two layouts
up() {  # up FOLDER DEST PART_MIB ALGORITHM
  ferry cp "$1" "$2" --checksum-algorithm "$4" --multipart-threshold 5MiB --part-size "$3MiB" \
    --no-progress > /dev/null 2>&1
}
check "ferry cp A (5 MiB parts, CRC64NVME)" up "$WORK/A" moto:vck-a/ 5 CRC64NVME
check "ferry cp B (6 MiB parts, CRC64NVME)" up "$WORK/B" moto:vck-b/ 6 CRC64NVME
ea=$(m head vck-a same | field ETag) eb=$(m head vck-b same | field ETag)
check "  two multipart ETags of 3 parts ($ea, $eb)" \
  bash -c "[ '$ea' != '$eb' ] && [ '${ea##*-}' = 3 ] && [ '${eb##*-}' = 3 ]"
v moto:vck-a moto:vck-b
check "1. exit 0 (a size-only pair is no difference)" [ "$RC_" = 0 ]
check "  same: identical (no false alarm)" [ "$(entry same result)" = identical ]
check "  changed: size only, never identical (the ferry-crc32c claims decide nothing)" \
  [ "$(entry changed result)" = size_only ]
check "  moto's CRC64NVME (4 bytes) is never compared" bash -c "! grep -q checksum-crc64nvme '$WORK/report'"
v moto:vck-a moto:vck-b --download
check "  --download: exit 1 (one difference)" [ "$RC_" = 1 ]
check "  --download: changed differs by content" [ "$(entry changed result) $(entry changed reason)" = "differ content" ]
check "  --download: same identical" [ "$(entry same result)" = identical ]

# 2. aws s3 cp: composite SHA256 / CRC32 over 8 and 5 MiB parts
aws_moto() {  # aws_moto PART_MIB ARGS...
  local mib=$1; shift
  printf '[default]\ns3 =\n  multipart_threshold = %dMB\n  multipart_chunksize = %dMB\n' \
    "$mib" "$mib" > "$WORK/aws-$mib.cfg"
  AWS_CONFIG_FILE=$WORK/aws-$mib.cfg AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ACCESS_KEY_ID=test \
    AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 aws --endpoint-url "$MOTO" "$@"
}
for alg in SHA256 CRC32; do
  check "aws s3 cp $alg, 8 MiB parts" aws_moto 8 s3 cp --quiet "$WORK/A/same" "s3://vck-c/$alg-same" --checksum-algorithm $alg
  check "aws s3 cp $alg, 5 MiB parts" aws_moto 5 s3 cp --quiet "$WORK/B/same" "s3://vck-d/$alg-same" --checksum-algorithm $alg
  check "aws s3 cp $alg (changed), 8 MiB parts" aws_moto 8 s3 cp --quiet "$WORK/A/changed" "s3://vck-c/$alg-changed" --checksum-algorithm $alg
  check "aws s3 cp $alg (changed), 5 MiB parts" aws_moto 5 s3 cp --quiet "$WORK/B/changed" "s3://vck-d/$alg-changed" --checksum-algorithm $alg
done
ec=$(m head vck-c SHA256-same | field ETag) ed=$(m head vck-d SHA256-same | field ETag)
check "  two layouts ($ec, $ed)" bash -c "[ '${ec##*-}' = 2 ] && [ '${ed##*-}' = 3 ]"
sc=$(m head vck-c SHA256-same | field ChecksumSHA256) sd=$(m head vck-d SHA256-same | field ChecksumSHA256)
check "  moto serves two different SHA256 values for the same bytes ($sc, $sd)" \
  bash -c "[ -n '$sc' ] && [ -n '$sd' ] && [ '$sc' != '$sd' ]"
m put vck-c whole-sha "$WORK/small" SHA256
m put vck-d whole-sha "$WORK/small" SHA256
m put vck-c whole-crc "$WORK/small" CRC32
m put vck-d whole-crc "$WORK/small" CRC32
v moto:vck-c moto:vck-d
for alg in SHA256 CRC32; do
  check "2. $alg-same: identical by the layout (the composite values are not compared)" \
    [ "$(entry $alg-same result) $(entry $alg-same reason)" = "identical layout" ]
  check "  $alg-changed: not identical" [ "$(entry $alg-changed result)" != identical ]
done
check "3. whole objects with a SHA256 / CRC32: identical by their MD5 ETags" \
  [ "$(entry whole-sha result) $(entry whole-sha reason) $(entry whole-crc result) $(entry whole-crc reason)" = "identical md5 identical md5" ]
check "  2 HEADs per multipart pair only (8 in all)" grep -q "^verify: 8 HEADs" "$WORK/summary"
v moto:vck-c moto:vck-d --download
check "  --download: exit 1" [ "$RC_" = 1 ]
for alg in SHA256 CRC32; do
  check "  --download: $alg-changed differs" [ "$(entry $alg-changed result)" = differ ]
  check "  --download: $alg-same identical" [ "$(entry $alg-same result)" = identical ]
done

finish
