#!/usr/bin/env bash
# Old S3-compatible stores: a remote with signature = "v2" (Signature Version 2, ListObjects
# version 1) against gateway A, which accepts both. Objects (whole and multipart) go up and
# come back byte for byte, a listing of more than one page (1,050 keys: version 1's markers)
# is complete, a second sync finds nothing to copy, and a v4 remote with list_objects_v1 lists
# the same; a wrong secret is refused as with v4.
source "$(dirname "$0")/testlib.bash"
SCRATCH=${FERRY_TEST_TMPDIR:-$WORK}
export HOME=$SCRATCH/home
mkdir -p "$HOME"
A=$(new_bucket ra)
REGION=${FERRY_TEST_S3_REGION:-region-a}
cp "$CONF" "$WORK/old.toml"
cat >> "$WORK/old.toml" <<TOML

[remotes.old]
endpoint = "$FERRY_TEST_S3_ENDPOINT"
region = "$REGION"
access_key_id_env = "RA_KEY"
secret_access_key_env = "RA_SECRET"
signature = "v2"

[remotes.v1list]
endpoint = "$FERRY_TEST_S3_ENDPOINT"
region = "$REGION"
access_key_id_env = "RA_KEY"
secret_access_key_env = "RA_SECRET"
list_objects_v1 = true

[remotes.wrong]
endpoint = "$FERRY_TEST_S3_ENDPOINT"
region = "$REGION"
access_key_id_env = "RA_KEY"
secret_access_key_env = "WRONG_SECRET"
signature = "v2"
TOML
export WRONG_SECRET=not-the-secret
of() { "$FERRY_BIN" --config "$WORK/old.toml" "$@"; }

mkdir -p "$WORK/src/many" "$WORK/src/big"
for i in $(seq -w 1 1050); do echo "object $i" > "$WORK/src/many/k $i.txt"; done
head -c $((11 * 1024 * 1024 + 7)) /dev/urandom > "$WORK/src/big/b.bin"

check "v2: sync up (1,050 small objects and a multipart one)" \
  bash -c "'$FERRY_BIN' --config '$WORK/old.toml' sync '$WORK/src' 'old:$A/s/' --no-progress \
    > '$WORK/out' 2> '$WORK/err'"
check "v2: ls lists every key over several version 1 pages" \
  bash -c "[ \"\$('$FERRY_BIN' --config '$WORK/old.toml' ls 'old:$A/s/many/' | wc -l)\" = 1050 ]"
check "v4 + list_objects_v1 lists the same" \
  bash -c "[ \"\$('$FERRY_BIN' --config '$WORK/old.toml' ls 'v1list:$A/s/many/' | wc -l)\" = 1050 ]"
check "v2: a second sync copies nothing" \
  bash -c "'$FERRY_BIN' --config '$WORK/old.toml' sync '$WORK/src' 'old:$A/s/' --no-progress 2>&1 \
    | grep -q ' 0 copied'"
check "v2: cp back down byte for byte" \
  bash -c "'$FERRY_BIN' --config '$WORK/old.toml' cp 'old:$A/s/' '$WORK/back/' --no-progress \
    >/dev/null 2>&1 && diff -r '$WORK/src' '$WORK/back'"
check "v2: a wrong secret is refused in one line" \
  expect_error 1 "access denied or wrong credentials" of ls "wrong:$A"
check "signature must be v2 or v4" \
  bash -c "printf '[remotes.x]\nsignature = \"v3\"\n' > '$WORK/bad.toml'; \
    ! '$FERRY_BIN' --config '$WORK/bad.toml' ls 'x:b' 2> '$WORK/err' \
    && grep -q 'signature must be \"v4\" or \"v2\"' '$WORK/err'"
finish
