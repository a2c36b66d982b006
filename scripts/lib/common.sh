# shellcheck shell=bash
# Helpers shared by scripts/test-all.sh, scripts/demo.sh and bench/bench-sync.sh.
# Sourced, not run. Expects FERRY_ROOT (repository root) to be set by the caller.

# log TAG MESSAGE... : progress goes to stderr so stdout stays machine-readable
ferry_log() { local tag=$1; shift; printf '[%s %s] %s\n' "$tag" "$(date +%T)" "$*" >&2; }

# load_kv FILE: turn the KEY=VALUE lines printed by rgw-start.sh / pg-start.sh into shell
# variables without eval (a value is never executed)
load_kv() {
  local k v
  while IFS='=' read -r k v; do
    [[ $k =~ ^[A-Z][A-Z0-9_]*$ ]] || continue
    printf -v "$k" '%s' "$v"
  done < "$1"
}

# rgw_up: make sure an RGW pair is reachable and set S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY,
# S3_REGION and the same with _B, plus RGW_STARTED (1 = this call started it, so the caller may
# stop it; 0 = it was running already: somebody else's, leave it alone).
# FERRY_TEST_S3_* variables, when set, name an already running pair and win over starting one.
rgw_up() {
  if [ -n "${FERRY_TEST_S3_ENDPOINT:-}" ] && [ -n "${FERRY_TEST_S3_ENDPOINT_B:-}" ]; then
    S3_ENDPOINT=$FERRY_TEST_S3_ENDPOINT S3_ACCESS_KEY=$FERRY_TEST_S3_ACCESS_KEY
    S3_SECRET_KEY=$FERRY_TEST_S3_SECRET_KEY S3_REGION=${FERRY_TEST_S3_REGION:-region-a}
    S3_ENDPOINT_B=$FERRY_TEST_S3_ENDPOINT_B S3_ACCESS_KEY_B=$FERRY_TEST_S3_ACCESS_KEY_B
    S3_SECRET_KEY_B=$FERRY_TEST_S3_SECRET_KEY_B S3_REGION_B=${FERRY_TEST_S3_REGION_B:-region-b}
    # shellcheck disable=SC2034  # read by the callers
    RGW_STARTED=0
    return 0
  fi
  local out
  out=$(mktemp)
  if ! RGW_INSTANCES=2 bash "$FERRY_ROOT/scripts/rgw-start.sh" > "$out"; then
    rm -f "$out"
    return 1
  fi
  load_kv "$out"
  rm -f "$out"
  [ -n "${S3_ENDPOINT_B:-}" ] || { ferry_log rgw "rgw-start.sh printed no second gateway"; return 1; }
}

# aws_a / aws_b ARGS...: the Debian AWS CLI v2 (/usr/bin/aws; the first `aws` on PATH may be a
# v1 from pip) against region A / B. It ignores AWS_ENDPOINT_URL (added in 2.13), hence
# --endpoint-url. User config and profiles are kept out so that every run behaves the same;
# AWS_PAGER= stops v2 from piping output through `less` on a terminal.
# aws_argv a|b sets the array AWS_ARGV to the same command, for callers that need a plain
# command line (e.g. to run it under /usr/bin/time, which cannot run a shell function).
aws_argv() {
  local ep key secret region
  if [ "$1" = a ]; then
    ep=$S3_ENDPOINT key=$S3_ACCESS_KEY secret=$S3_SECRET_KEY region=$S3_REGION
  else
    ep=$S3_ENDPOINT_B key=$S3_ACCESS_KEY_B secret=$S3_SECRET_KEY_B region=$S3_REGION_B
  fi
  AWS_ARGV=(env -u AWS_PROFILE -u AWS_CA_BUNDLE -u AWS_SESSION_TOKEN
    AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" AWS_DEFAULT_REGION="$region"
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
    AWS_PAGER="" /usr/bin/aws --endpoint-url "$ep")
}
aws_a() { local AWS_ARGV; aws_argv a; "${AWS_ARGV[@]}" "$@"; }
aws_b() { local AWS_ARGV; aws_argv b; "${AWS_ARGV[@]}" "$@"; }

# make_bucket a|b NAME: create a bucket; RGW wants a LocationConstraint equal to its zonegroup
make_bucket() {
  local side=$1 name=$2 region
  if [ "$side" = a ]; then region=$S3_REGION; else region=$S3_REGION_B; fi
  "aws_$side" s3api create-bucket --bucket "$name" \
    --create-bucket-configuration "LocationConstraint=$region" >/dev/null
}

# drop_bucket a|b NAME: delete a bucket and everything in it; no error if it does not exist
drop_bucket() {
  local side=$1 name=$2
  if "aws_$side" s3api head-bucket --bucket "$name" >/dev/null 2>&1; then
    "aws_$side" s3 rb --force "s3://$name" >/dev/null 2>&1 \
      || ferry_log bucket "could not delete bucket $name in region $side"
  fi
}

# purge_bucket a|b NAME [single]: delete every version and delete marker, then the bucket (a
# versioned bucket cannot be removed by `aws s3 rb --force`); no error if it does not exist.
# `single`: one DeleteObject per version, for a bucket with notifications (RGW 16.2.15 aborts on
# a DeleteObjects there).
purge_bucket() {
  local side=$1 name=$2 batch_file
  if [ "${3:-}" = single ]; then
    "aws_$side" s3api list-object-versions --bucket "$name" --output json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for v in d.get("Versions", []) + d.get("DeleteMarkers", []):
    print(v["VersionId"], v["Key"])' 2>/dev/null | while read -r vid key; do
      # "=": a version id may start with "-" (RGW's do), which the CLI would take for an option
      "aws_$side" s3api delete-object --bucket "$name" --key="$key" --version-id="$vid" >/dev/null
    done || true  # no such bucket: nothing to delete
    "aws_$side" s3api delete-bucket --bucket "$name" >/dev/null 2>&1 || true
    return 0
  fi
  batch_file=$(mktemp)
  "aws_$side" s3api list-object-versions --bucket "$name" --output json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
objs = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in d.get("Versions", []) + d.get("DeleteMarkers", [])]
for i in range(0, len(objs), 1000):
    print(json.dumps({"Objects": objs[i:i + 1000], "Quiet": True}))' 2>/dev/null | while read -r batch; do
    printf '%s' "$batch" > "$batch_file"
    "aws_$side" s3api delete-objects --bucket "$name" --delete "file://$batch_file" >/dev/null
  done || true  # no such bucket: nothing to delete
  rm -f "$batch_file"
  "aws_$side" s3api delete-bucket --bucket "$name" >/dev/null 2>&1 || true
}

# count_objects a|b BUCKET: number of objects (listing, so it also works without metadata)
count_objects() {
  "aws_$1" s3 ls --recursive "s3://$2" | wc -l
}

# write_ferry_config FILE: a ferry config with remotes ra (region A) and rb (region B). The keys
# stay out of the file: it names the environment variables that hold them, which export_ferry_keys sets.
write_ferry_config() {
  cat > "$1" <<EOF
# written by ferry's scripts; remotes ra / rb = the two RGW gateways (regions A / B)
[remotes.ra]
endpoint = "$S3_ENDPOINT"
region = "$S3_REGION"
addressing = "path"
access_key_id_env = "FERRY_RA_KEY"
secret_access_key_env = "FERRY_RA_SECRET"

[remotes.rb]
endpoint = "$S3_ENDPOINT_B"
region = "$S3_REGION_B"
addressing = "path"
access_key_id_env = "FERRY_RB_KEY"
secret_access_key_env = "FERRY_RB_SECRET"
EOF
}
export_ferry_keys() {
  export FERRY_RA_KEY=$S3_ACCESS_KEY FERRY_RA_SECRET=$S3_SECRET_KEY
  export FERRY_RB_KEY=$S3_ACCESS_KEY_B FERRY_RB_SECRET=$S3_SECRET_KEY_B
}

# export_rclone_remotes: rclone remotes ra / rb configured through the environment (no config
# file), as in BENCHMARKS: provider Ceph, path-style. Run rclone itself with `env -u AWS_CA_BUNDLE`:
# rclone 1.60 fails every request with LoadCustomCABundleError while that variable is set.
export_rclone_remotes() {
  export RCLONE_CONFIG_RA_TYPE=s3 RCLONE_CONFIG_RA_PROVIDER=Ceph RCLONE_CONFIG_RA_ENDPOINT=$S3_ENDPOINT
  export RCLONE_CONFIG_RA_ACCESS_KEY_ID=$S3_ACCESS_KEY RCLONE_CONFIG_RA_SECRET_ACCESS_KEY=$S3_SECRET_KEY
  export RCLONE_CONFIG_RA_REGION=$S3_REGION RCLONE_CONFIG_RA_LOCATION_CONSTRAINT=$S3_REGION
  export RCLONE_CONFIG_RB_TYPE=s3 RCLONE_CONFIG_RB_PROVIDER=Ceph RCLONE_CONFIG_RB_ENDPOINT=$S3_ENDPOINT_B
  export RCLONE_CONFIG_RB_ACCESS_KEY_ID=$S3_ACCESS_KEY_B RCLONE_CONFIG_RB_SECRET_ACCESS_KEY=$S3_SECRET_KEY_B
  export RCLONE_CONFIG_RB_REGION=$S3_REGION_B RCLONE_CONFIG_RB_LOCATION_CONSTRAINT=$S3_REGION_B
  # no user rclone.conf may change the result
  export RCLONE_CONFIG=/dev/null
}

# build_release_ferry: the ferry command as users get it (Release), in build-release/, built the way
# CI builds (each library's files compiled as unity batches, FERRY_LIB_UNITY: cmake/BuildSpeed.cmake),
# so that a first build takes minutes, not the 17 a file-by-file Release build of every library took
# on two cores. Prints the binary's path on stdout; the build's output goes to stderr. Run from the
# project root.
build_release_ferry() {
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DFERRY_LIB_UNITY=ON >/dev/null
  cmake --build build-release -j2 --target ferry >&2 || return 1
  echo "$PWD/build-release/src/cli/ferry"
}
