#!/usr/bin/env bash
# Credentials beyond fixed keys, against the STS of gateway S (scripts/rgw-start.sh: zone A's users
# and buckets with `rgw s3 auth use sts`, roles ferry-test (all of S3) and ferry-readonly that
# user tester may assume):
#  - a profile with role_arn + source_profile: every request signed with the role's temporary
#    keys (the read-only role can list and read, and its writes are refused);
#  - a remote's own role_arn over its keys;
#  - a role that does not exist, an MFA profile, a failing credential_process: one line each,
#    before any transfer, nothing written;
#  - credential_process that hands out the role's keys declaring a 12 s life: a sync of ~30 s
#    asks for new ones several times and every object arrives intact;
#  - no_sign_request: a public object read without credentials, a private one refused;
#  - no secret in any output.
source "$(dirname "$0")/testlib.bash"
SCRATCH=${FERRY_TEST_TMPDIR:-$WORK}
export HOME=$SCRATCH/home  # the test's own ~/.aws
mkdir -p "$HOME/.aws"
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_CONFIG_FILE \
  AWS_SHARED_CREDENTIALS_FILE AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE
export AWS_EC2_METADATA_DISABLED=true
if [ -z "${FERRY_TEST_S3_STS_ENDPOINT:-}" ]; then
  echo "FERRY_TEST_S3_STS_ENDPOINT is not set (scripts/rgw-start.sh prints S3_STS_ENDPOINT)" >&2
  exit 1
fi
STS=$FERRY_TEST_S3_STS_ENDPOINT
REGION=${FERRY_TEST_S3_REGION:-region-a}
A=$(new_bucket ra)
all_output=$WORK/all-output
keep() { cat "$WORK/out" "$WORK/err" >> "$all_output" 2>/dev/null || true; }

cat > "$HOME/.aws/credentials" <<INI
[src]
aws_access_key_id = $RA_KEY
aws_secret_access_key = $RA_SECRET
INI
cat > "$HOME/.aws/config" <<INI
[profile writer]
role_arn = arn:aws:iam:::role/ferry-test
source_profile = src
role_session_name = ferry-cli-test
[profile reader]
role_arn = arn:aws:iam:::role/ferry-readonly
source_profile = src
[profile ghost]
role_arn = arn:aws:iam:::role/no-such-role
source_profile = src
[profile mfa]
role_arn = arn:aws:iam:::role/ferry-test
source_profile = src
mfa_serial = arn:aws:iam::123456789012:mfa/someone
INI

# the credential_process: role ferry-test's keys from STS, declared to expire in 12 s (the
# server keeps them for 15 minutes: what is proved is that ferry asks again in time)
cat > "$SCRATCH/sts-process.sh" <<SH
#!/usr/bin/env bash
date +%s.%N >> "$SCRATCH/process-calls"
xml=\$(curl -sf --aws-sigv4 "aws:amz:$REGION:sts" --user "$RA_KEY:$RA_SECRET" \\
  -d "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam:::role/ferry-test&RoleSessionName=proc" \\
  "$STS/") || { echo "AssumeRole at the gateway failed" >&2; exit 1; }
python3 - "\$xml" <<'PY'
import datetime, json, re, sys
x = sys.argv[1]
g = lambda t: re.search("<%s>([^<]*)</%s>" % (t, t), x).group(1)
expires = datetime.datetime.utcnow() + datetime.timedelta(seconds=12)
print(json.dumps({"Version": 1, "AccessKeyId": g("AccessKeyId"),
                  "SecretAccessKey": g("SecretAccessKey"), "SessionToken": g("SessionToken"),
                  "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}))
PY
SH

remote() { # remote NAME LINE...: a remote on gateway S
  local name=$1; shift
  printf '\n[remotes.%s]\nendpoint = "%s"\nregion = "%s"\n' "$name" "$STS" \
    "$REGION"
  printf '%s\n' "$@"
}
cp "$CONF" "$WORK/creds.toml"
{ remote writer 'profile = "writer"'
  remote reader 'profile = "reader"'
  remote ghost 'profile = "ghost"'
  remote mfa 'profile = "mfa"'
  remote keysrole 'access_key_id_env = "RA_KEY"' 'secret_access_key_env = "RA_SECRET"' \
    'role_arn = "arn:aws:iam:::role/ferry-readonly"' 'duration_seconds = 900'
  remote proc "credential_process = \"bash $SCRATCH/sts-process.sh\""
  remote failing 'credential_process = "echo no session, log in first >&2; exit 4"'
  remote anon 'no_sign_request = true'
} >> "$WORK/creds.toml"
cf() { "$FERRY_BIN" --config "$WORK/creds.toml" "$@"; }

mkdir -p "$WORK/src/d"
head -c 200000 /dev/urandom > "$WORK/src/small.bin"
head -c $((9 * 1024 * 1024 + 3)) /dev/urandom > "$WORK/src/d/big.bin"  # multipart
echo hello > "$WORK/src/d/hello.txt"

# (a) a role through a profile: writes and reads with its temporary keys
check "(a) cp up through profile 'writer' (role ferry-test)" \
  bash -c "'$FERRY_BIN' --config '$WORK/creds.toml' cp '$WORK/src' 'writer:$A/w/' --no-progress \
    > '$WORK/out' 2> '$WORK/err'"
keep
check "(a)   objects read back byte for byte with the plain keys" \
  bash -c "'$FERRY_BIN' --config '$CONF' cp 'ra:$A/w/' '$WORK/back-a/' --no-progress >/dev/null 2>&1 \
    && diff -r '$WORK/src' '$WORK/back-a'"

# (b) the read-only role: lists and reads, writes refused
check "(b) ls through the read-only role" \
  bash -c "'$FERRY_BIN' --config '$WORK/creds.toml' ls 'reader:$A/w/' 2>>'$all_output' \
    | grep -q 'd/big.bin'"
check "(b) cp down through the read-only role" \
  bash -c "'$FERRY_BIN' --config '$WORK/creds.toml' cp 'reader:$A/w/' '$WORK/back-b/' --no-progress \
    >/dev/null 2>>'$all_output' && diff -r '$WORK/src' '$WORK/back-b'"
rc=0
cf cp "$WORK/src/d" "reader:$A/denied/" --no-progress >"$WORK/out" 2>"$WORK/err" \
  || rc=$?
keep
check "(b) a write through the read-only role is refused (exit $rc)" \
  bash -c "[ $rc -ne 0 ] && cat '$WORK/out' '$WORK/err' | grep -qi 'access denied'"
check "(b)   nothing was written" bash -c "! '$FERRY_BIN' --config '$CONF' ls 'ra:$A/denied/' \
  2>/dev/null | grep -q ."

# (c) a remote's role_arn over its own keys (read-only again)
check "(c) remote role over keys: ls works" \
  bash -c "'$FERRY_BIN' --config '$WORK/creds.toml' ls 'keysrole:$A/w/' 2>>'$all_output' | grep -q hello"
rc=0
cf cp "$WORK/src/d" "keysrole:$A/denied/" --no-progress >"$WORK/out" 2>"$WORK/err" \
  || rc=$?
keep
check "(c)   and its writes are refused" \
  bash -c "[ $rc -ne 0 ] && cat '$WORK/out' '$WORK/err' | grep -qi 'access denied'"

# (d) settings that cannot work: one line each, before any transfer
check "(d) a role that does not exist: one line naming it" \
  expect_error 1 "assuming role arn:aws:iam:::role/no-such-role at .*NoSuchEntity" \
  cf cp "$WORK/src" "ghost:$A/ghost/" --no-progress
keep
check "(d) an MFA profile: refused in one line" \
  expect_error 2 "profile \"mfa\" asks for an MFA code" cf ls "mfa:$A"
keep
check "(d) a failing credential_process: its exit and last line" \
  expect_error 1 "credential_process of remote 'failing' exited with status 4: no session, log in first" \
  cf ls "failing:$A"
keep
check "(d)   nothing was written" bash -c "! '$FERRY_BIN' --config '$CONF' ls 'ra:$A/ghost/' \
  2>/dev/null | grep -q ."

# (e) credentials that expire during the run: asked for again in time, the run completes (one
# object at a time, so that requests are signed all along the run, not all at its start)
mkdir -p "$WORK/slow"
for i in 1 2 3 4 5 6 7; do head -c $((2 * 1024 * 1024)) /dev/urandom > "$WORK/slow/f$i.bin"; done
: > "$SCRATCH/process-calls"
t0=$SECONDS
check "(e) a ~30 s sync with credentials that live 12 s" \
  bash -c "'$FERRY_BIN' --config '$WORK/creds.toml' --bwlimit 512k sync '$WORK/slow' 'proc:$A/slow/' \
    --concurrency 1 --no-progress > '$WORK/out' 2> '$WORK/err'"
keep
took=$((SECONDS - t0))
calls=$(wc -l < "$SCRATCH/process-calls")
echo "  the sync took ${took} s and ran the credential_process $calls times"
check "(e)   it lasted longer than one set of credentials (${took} s > 12 s)" test "$took" -gt 12
check "(e)   new credentials were fetched before the old expired ($calls >= $((took / 12 + 1)))" \
  test "$calls" -ge $((took / 12 + 1))
check "(e)   every object arrived intact" \
  bash -c "'$FERRY_BIN' --config '$CONF' cp 'ra:$A/slow/' '$WORK/back-e/' --no-progress >/dev/null 2>&1 \
    && diff -r '$WORK/slow' '$WORK/back-e'"

# (f) no_sign_request: a public-read bucket listed and its public object read without
# credentials; its private object refused
P=$(new_bucket ra)
aws_side a s3api put-bucket-acl --bucket "$P" --acl public-read
aws_side a s3api put-object --bucket "$P" --key pub/open.txt --body "$WORK/src/d/hello.txt" \
  --acl public-read >/dev/null
aws_side a s3api put-object --bucket "$P" --key priv/closed.txt --body "$WORK/src/d/hello.txt" \
  >/dev/null
check "(f) a public-read object read unsigned" \
  bash -c "'$FERRY_BIN' --config '$WORK/creds.toml' cp 'anon:$P/pub/' '$WORK/open/' \
    --no-progress >/dev/null 2>>'$all_output' && cmp '$WORK/open/open.txt' '$WORK/src/d/hello.txt'"
rc=0
cf cp "anon:$P/priv/" "$WORK/private/" --no-progress >"$WORK/out" 2>"$WORK/err" || rc=$?
keep
check "(f) a private object refused unsigned (exit $rc)" \
  bash -c "[ $rc -ne 0 ] && [ ! -e '$WORK/private/closed.txt' ]"

# (g) no secret anywhere in what ferry wrote
check "(g) the secret key never shows" bash -c "! grep -qF -- '$RA_SECRET' '$all_output'"
finish
