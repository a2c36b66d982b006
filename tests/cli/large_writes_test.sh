#!/usr/bin/env bash
# A large write is written once (issue 43 §1.14). A chunked write whose CRC32C ferry learnt
# while streaming (a source that declares none: objects uploaded in parts by another tool) used
# to copy the whole object onto itself (CopyObject REPLACE) to stamp x-amz-meta-ferry-crc32c and
# delete the completed version: the store wrote every large object twice, and a versioned
# destination listed two versions for a while. Now:
#  - RGW B (keeps no full-object checksum), versioned: RGW's own usage log for the destination
#    bucket shows no copy_obj and no delete_obj, and exactly the objects' bytes received; each
#    key lists exactly one version; the bytes are the source's.
#  - moto as AWS (a remote with provider = "aws"): the upload carries a full-object CRC32C that
#    the store keeps (HEAD: the CRC32C of the whole file, computed here by moto_s3.py), and
#    moto's request log shows no copy onto itself.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_CEPH_CONF:?FERRY_TEST_CEPH_CONF not set: run through scripts/test-all.sh}"
trap 'kill ${moto_pid:-} 2>/dev/null; wait ${moto_pid:-} 2>/dev/null; cleanup' EXIT

A=$(new_bucket ra)
B=$(new_bucket rb)
aws_side b s3api put-bucket-versioning --bucket "$B" --versioning-configuration Status=Enabled
MIB=$((1024 * 1024))
mkdir -p "$WORK/up"
for i in 1 2; do head -c $((12 * MIB + i)) /dev/urandom > "$WORK/up/big$i"; done
# uploaded in 8 MiB parts by the AWS CLI: multipart ETags, no ferry-crc32c
aws_side a s3 cp "$WORK/up" "s3://$A/" --recursive >/dev/null
src_meta=$(aws_side a s3api head-object --bucket "$A" --key big1 --query '[ETag, Metadata]' --output json)
check "the sources are multipart objects without a ferry-crc32c" \
  bash -c "grep -q -- '-2' <<< '$src_meta' && ! grep -q ferry-crc32c <<< '$src_meta'"

# RGW B's usage log for bucket B, by category: "copy_obj_ops delete_obj_ops put_obj_bytes
# complete_ops marker_ops" (marker: get_bucket_location, asked by rgw_b_usage_caught_up)
usage_b() {
  radosgw-admin -c "$FERRY_TEST_CEPH_CONF" --rgw-realm realm-b --rgw-zonegroup region-b \
    --rgw-zone zone-b usage show --uid tester-b 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin); c = {}
for e in d.get('entries', []):
    for k in e.get('buckets', []):
        if k.get('bucket') == '$B':
            for x in k.get('categories', []):
                n = x.get('category')
                c[n] = c.get(n, 0) + x.get('ops', 0)
                c[n + '.bytes'] = c.get(n + '.bytes', 0) + x.get('bytes_received', 0)
print(c.get('copy_obj', 0), c.get('delete_obj', 0), c.get('put_obj.bytes', 0),
      c.get('complete_multipart', 0), c.get('get_bucket_location', 0))"
}
read -r copies0 deletes0 bytes0 completes0 _ <<< "$(usage_b)"

rc=0
ferry sync "ra:$A" "rb:$B" --multipart-threshold 5MiB --part-size 5MiB --json --no-progress \
  > "$WORK/sync.json" 2> "$WORK/sync.err" || rc=$?
check "the sync succeeds" test "$rc" = 0
check "  and copied both objects" test "$(python3 -c "import json; print(json.load(open('$WORK/sync.json'))['objects_copied'])")" = 2
check "the usage log caught up" rgw_b_usage_caught_up "$B"
read -r copies deletes bytes completes _ <<< "$(usage_b)"
echo "  destination bucket: copy_obj $((copies - copies0)), delete_obj $((deletes - deletes0)), put_obj bytes $((bytes - bytes0)) for $((24 * MIB + 3)) object bytes, completions $((completes - completes0))"
check "no copy onto itself at the destination (RGW usage log: copy_obj)" test "$((copies - copies0))" = 0
check "no version deleted at the destination (RGW usage log: delete_obj)" test "$((deletes - deletes0))" = 0
check "the destination received the objects' bytes once" test "$((bytes - bytes0))" = "$((24 * MIB + 3))"
check "two uploads completed" test "$((completes - completes0))" = 2
for i in 1 2; do
  n=$(aws_side b s3api list-object-versions --bucket "$B" --prefix "big$i" --query 'length(Versions)' --output text)
  check "big$i: exactly one version at the versioned destination" test "$n" = 1
  aws_side b s3 cp "s3://$B/big$i" "$WORK/back$i" >/dev/null
  check "big$i: the source's bytes" cmp -s "$WORK/back$i" "$WORK/up/big$i"
done

# moto as AWS: provider "aws" with moto's endpoint (path style, as moto serves it)
moto_start
cat >> "$CONF" <<EOT

[remotes.mawss]
provider = "aws"
endpoint = "$MOTO"
addressing = "path"
region = "us-east-1"
access_key_id_env = "MOTO_KEY2"
secret_access_key_env = "MOTO_SECRET2"
EOT
export MOTO_KEY2=other MOTO_SECRET2=other  # another client: the bytes go through ferry
m() { python3 "$FERRY_TEST_TOOLS/moto_s3.py" "$MOTO" "$@"; }
for b in big-src big-dst; do m mb "$b"; done
m put big-src big1 "$WORK/up/big1"  # one PUT: an MD5 ETag and no ferry-crc32c, no checksum
rc=0
ferry sync moto:big-src mawss:big-dst --multipart-threshold 5MiB --part-size 5MiB \
  --no-progress > "$WORK/moto.out" 2>&1 || rc=$?
check "the copy to the AWS-like store succeeds" test "$rc" = 0
head_json=$(m head big-dst big1)
echo "  moto HEAD: $head_json"
# moto combines the parts itself, with the crc32c module where its Python has it and with
# zlib's CRC32 in its place where not (moto/s3/utils.py compute_checksum): the value expected is
# that of the whole file either way, never a composite "-3"
algo=CRC32C
moto_python=$(ps -o args= -p "$moto_pid" | awk '{ print $1 }')
if ! "$moto_python" -c 'import crc32c' 2>/dev/null; then
  algo=CRC32
  echo "  (this moto has no crc32c module: it computes CRC32 in its place)"
fi
want=$(python3 "$FERRY_TEST_TOOLS/moto_s3.py" - expect "$algo" "$WORK/up/big1")
got=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("ChecksumCRC32C", ""))' "$head_json")
check "the store keeps a full-object CRC32C of the whole object (not a composite of parts)" \
  test "$got" = "$want"
check "no copy onto itself (moto's log: no plain PUT of the key)" \
  test "$(grep -c '"PUT /big-dst/big1 HTTP' "$WORK/moto.log" || true)" = 0
check "  while the parts went as uploads" grep -q 'PUT /big-dst/big1?.*partNumber=' "$WORK/moto.log"
finish
