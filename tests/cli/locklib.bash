# Helpers for the CLI tests of S3 Object Lock (sourced after testlib.bash): object-lock
# buckets, HeadObject fields, retain-until dates, and the cleanup of locked versions. A script
# that sources it sets `trap 'unlock_all; cleanup' EXIT`.
# Object-lock buckets keep their locked versions: legal holds are lifted and GOVERNANCE
# retention bypassed (x-amz-bypass-governance-retention) before testlib's cleanup. Never fails.
LOCKED=()
unlock_all() {
  [ "${FERRY_TEST_THROWAWAY_SERVERS:-0}" = 1 ] && return 0
  for loc in "${LOCKED[@]}"; do
    PYTHONPATH="$FERRY_TEST_TOOLS" python3 - "${loc%%:*}" "${loc#*:}" <<'PY' \
      || echo "  (cleanup: the locked versions of $loc could not all be deleted)"
import sys
from s3_check import S3
s3, bucket = S3[sys.argv[1]], sys.argv[2]
kw = {"Bucket": bucket}
while True:
    page = s3.list_object_versions(**kw)
    for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
        try:
            s3.put_object_legal_hold(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"],
                                     LegalHold={"Status": "OFF"})
        except Exception:
            pass
        s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"],
                         BypassGovernanceRetention=True)
    if not page.get("IsTruncated"):
        break
    kw = {"Bucket": bucket, "KeyMarker": page["NextKeyMarker"],
          "VersionIdMarker": page["NextVersionIdMarker"]}
s3.delete_bucket(Bucket=bucket)
PY
  done
}

lock_bucket() {  # lock_bucket ra|rb [mb flags...] -> a new object-lock bucket's name
  local side=$1; shift
  local b="ferry-lock-$$-$RANDOM"
  ferry mb "$side:$b" --versioning --object-lock "$@" 2>"$WORK/mb.err" >/dev/null || {
    cat "$WORK/mb.err" >&2; return 1; }
  echo "$b"
}
head_field() {  # head_field a|b BUCKET KEY FIELD: one field of HeadObject ("None" when absent)
  aws_side "$1" s3api head-object --bucket "$2" --key "$3" --query "$4" --output text
}
until_in() {  # until_in SECONDS: an ISO 8601 date that many seconds from now (whole seconds)
  date -u -d "+$1 seconds" +%Y-%m-%dT%H:%M:%SZ
}

