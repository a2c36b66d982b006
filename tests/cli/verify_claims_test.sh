#!/usr/bin/env bash
# ferry-* metadata is a writer's claim (docs/design/integrity.md), on the real gateways: issue
# 43's scenario. An object written by ferry (x-amz-meta-ferry-crc32c, ferry-mtime), then a copy
# of it with one byte changed, uploaded by the AWS CLI in other parts (no MD5 ETag decides) with
# the same ferry-* metadata. `ferry verify` must not call the pair identical; with --download
# it reads both sides and says differ. `ferry sync --checksum` must copy it, not skip it.
source "$(dirname "$0")/testlib.bash"
MiB=$((1024 * 1024))
mkdir -p "$WORK/a"
head -c $((13 * MiB + 5)) /dev/urandom > "$WORK/orig"
cp "$WORK/orig" "$WORK/a/obj"
cp "$WORK/orig" "$WORK/a/same"
python3 - "$WORK/orig" "$WORK/changed" <<'PY'
import sys; d = bytearray(open(sys.argv[1], 'rb').read()); d[7 * 1024 * 1024 + 3] ^= 1; open(sys.argv[2], 'wb').write(d)
PY
aws_parts() {  # aws_parts MiB ARGS...: the AWS CLI on gateway A with parts of MiB
  local mib=$1; shift
  printf '[default]\ns3 =\n  multipart_threshold = %dMB\n  multipart_chunksize = %dMB\n' \
    "$mib" "$mib" > "$WORK/aws-$mib.cfg"
  AWS_CONFIG_FILE=$WORK/aws-$mib.cfg AWS_SHARED_CREDENTIALS_FILE=/dev/null aws_side a "$@"
}
meta() { aws_side a s3api head-object --bucket "$1" --key "$2" --query "Metadata.\"$3\"" --output text; }
etag() { aws_side a s3api head-object --bucket "$1" --key "$2" --query ETag --output text | tr -d '"'; }

A=$(new_bucket ra)
B=$(new_bucket ra)
check "ferry cp writes the original twice, obj and same (5 MiB parts)" ferry cp "$WORK/a" "ra:$A" \
  --multipart-threshold 5MiB --part-size 5MiB --no-progress
crc=$(meta "$A" obj ferry-crc32c)
mt=$(meta "$A" obj ferry-mtime)
check "  it carries ferry-crc32c ($crc) and ferry-mtime" bash -c "[ ${#crc} = 8 ] && [ -n '$mt' ] && [ '$mt' != None ]"
check "a changed copy, 6 MiB parts, ferry's metadata kept" aws_parts 6 s3 cp --quiet "$WORK/changed" \
  "s3://$B/obj" --metadata "ferry-crc32c=$crc,ferry-mtime=$mt"
check "a faithful copy, 6 MiB parts, the same metadata" aws_parts 6 s3 cp --quiet "$WORK/orig" \
  "s3://$B/same" --metadata "ferry-crc32c=$crc,ferry-mtime=$mt"
check "  equal claims on both sides" [ "$(meta "$B" obj ferry-crc32c)" = "$crc" ]
check "  multipart ETags of two layouts (-3 and -3, different)" \
  bash -c "[ '$(etag "$A" obj)' != '$(etag "$B" obj)' ] && [ '$(etag "$B" obj | sed 's/.*-//')' = 3 ]"

# v ARGS...: ferry verify --json; report in $WORK/report, summary in $WORK/summary, exit in RC_
v() { RC_=0; ferry verify "$@" --json > "$WORK/report" 2> "$WORK/summary" || RC_=$?; }
entry() { python3 -c '
import json, sys
for line in open(sys.argv[1]):
    j = json.loads(line)
    if j["key"] == sys.argv[2]:
        print(j[sys.argv[3]])' "$WORK/report" "$1" "$2"; }

v "ra:$A" "ra:$B"
check "verify: the changed copy is not identical" [ "$(entry obj result)" != identical ]
check "  it is size only (nothing the stores computed can compare it from one read)" \
  [ "$(entry obj result)" = size_only ]
check "  its reason names the claims as unconfirmed" bash -c "grep -q 'equal ferry-crc32c claims, unconfirmed' '$WORK/report'"
check "  the faithful copy is identical by its layout (the store's ETag)" \
  [ "$(entry same result) $(entry same reason)" = "identical layout" ]
check "  exit 0 (size only is no difference)" [ "$RC_" = 0 ]
v "ra:$A" "ra:$B" --download
check "verify --download: the changed copy differs by content" \
  [ "$(entry obj result) $(entry obj reason)" = "differ content" ]
check "  exit 1" [ "$RC_" = 1 ]
check "  both sides of it read (3 objects read: obj twice, same once)" \
  grep -q ", 3 objects read" "$WORK/summary"

# sync --checksum compares content, not the claims: the changed copy is overwritten.
check "sync --checksum copies over the changed copy" ferry sync "ra:$A" "ra:$B" --checksum \
  --no-progress --no-state
aws_side a s3 cp --quiet "s3://$B/obj" "$WORK/back"
check "  the destination now holds the original's bytes" cmp -s "$WORK/orig" "$WORK/back"
finish
