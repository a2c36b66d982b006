#!/usr/bin/env bash
# TLS to object stores: gateway A over HTTPS (scripts/rgw-start.sh: a certificate for 127.0.0.1
# from a throw-away CA). The certificate is checked by default: without the remote's ca_bundle
# every command is refused with one line naming the server and what to set; with it objects
# (whole and multipart) go both ways byte for byte, also next to plain-http and unchecked
# remotes in one process; insecure_skip_verify works and warns once; a ca_bundle that cannot be
# read is refused before any request; a bundle of another CA is refused like none. The secret
# key never shows.
if [ -z "${FERRY_TEST_S3_TLS_ENDPOINT:-}" ]; then
  echo "skip: FERRY_TEST_S3_TLS_ENDPOINT is not set (scripts/rgw-start.sh prints it)"
  exit 77
fi
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_S3_TLS_CA:?FERRY_TEST_S3_TLS_CA not set}"
SCRATCH=${FERRY_TEST_TMPDIR:-$WORK}
export HOME=$SCRATCH/home  # no ~/.config/ferry or ~/.aws of the machine
mkdir -p "$HOME"
unset AWS_CA_BUNDLE
A=$(new_bucket ra)  # gateway A: the same bucket over http (ra) and https (the remotes below)

# tls_remote NAME [LINE...]: a remote on gateway A over HTTPS with extra lines
tls_remote() {
  local name=$1; shift
  printf '\n[remotes.%s]\nendpoint = "%s"\nregion = "%s"\n' "$name" \
    "$FERRY_TEST_S3_TLS_ENDPOINT" "${FERRY_TEST_S3_REGION:-region-a}"
  printf 'access_key_id_env = "RA_KEY"\nsecret_access_key_env = "RA_SECRET"\n'
  [ $# -eq 0 ] || printf '%s\n' "$@"
}
cp "$CONF" "$WORK/tls.toml"
{ tls_remote plain
  tls_remote trusted "ca_bundle = \"$FERRY_TEST_S3_TLS_CA\""
  tls_remote unchecked "insecure_skip_verify = true"
  tls_remote missing "ca_bundle = \"$SCRATCH/no-such-ca.pem\""
  tls_remote wrongca "ca_bundle = \"$SCRATCH/other-ca.pem\""
} >> "$WORK/tls.toml"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$SCRATCH/other-ca.key" -out "$SCRATCH/other-ca.pem" -subj "/CN=another CA" 2>/dev/null
tf() { "$FERRY_BIN" --config "$WORK/tls.toml" "$@"; }
# every line ferry wrote goes here too, to look for the secret at the end
keep() { cat "$WORK/out" "$WORK/err" >> "$WORK/all-output" 2>/dev/null || true; }

mkdir -p "$WORK/src/d"
head -c 300000 /dev/urandom > "$WORK/src/small.bin"
head -c $((12 * 1024 * 1024 + 5)) /dev/urandom > "$WORK/src/d/big.bin"  # multipart below
echo hello > "$WORK/src/d/hello.txt"

# (a) no ca_bundle: refused, one line naming the server, the certificate and what to set
origin=${FERRY_TEST_S3_TLS_ENDPOINT%/}
untrusted="TLS certificate of $origin not trusted: .*certificate"
check "(a) ls without ca_bundle: exit 1, one line: certificate not trusted" \
  expect_error 1 "$untrusted.*; set ca_bundle for remote 'plain'" tf ls "plain:$A"
keep
check "(a) cp without ca_bundle: exit 1, one line, not retried (well within 20 s)" \
  expect_error 1 "TLS certificate of $origin not trusted" \
  timeout 20 "$FERRY_BIN" --config "$WORK/tls.toml" cp "$WORK/src" "plain:$A/a/" --no-progress
keep
check "(a)   nothing was written" bash -c "[ -z \"\$('$FERRY_BIN' --config '$CONF' ls 'ra:$A')\" ]"

# (b) with ca_bundle: copies, whole and multipart, that read back byte for byte
check "(b) cp to the https remote with ca_bundle" \
  tf cp "$WORK/src" "trusted:$A/b/" --no-progress --multipart-threshold 5MiB --part-size 5MiB
tf ls "trusted:$A/b/" > "$WORK/listing" 2>&1 || true
check "(b)   ls over https lists the three objects" \
  bash -c "[ \$(grep -c . '$WORK/listing') = 3 ] && grep -q ' d/big.bin\$' '$WORK/listing'"
check "(b)   the large object went in parts (ETag MD5-N)" \
  grep -Eq -- '^ *12582917 [^ ]+ [0-9a-f]{32}-3 d/big.bin$' "$WORK/listing"
check "(b) cp back from the https remote" \
  tf cp "trusted:$A/b/" "$WORK/back" --no-progress --part-size 5MiB
check "(b)   byte for byte" diff -r "$WORK/src" "$WORK/back"
# one process, three ways to reach stores: plain http (ra, rb), checked https, unchecked https
check "(b) sync https (ca_bundle) -> http gateway B" \
  tf sync "trusted:$A/b/" "rb:$(new_bucket rb)/" --no-progress
check "(b) cp http -> https (ca_bundle), the same gateway" \
  tf cp "ra:$A/b/" "trusted:$A/c/" --no-progress --part-size 5MiB
check "(b) cp https (ca_bundle) -> https (unchecked): two settings on one endpoint" \
  tf cp "trusted:$A/c/" "unchecked:$A/e/" --no-progress --part-size 5MiB
rm -rf "$WORK/back" && tf cp "ra:$A/e/" "$WORK/back" --no-progress > /dev/null 2>&1 || true
check "(b)   byte for byte after both hops" diff -r "$WORK/src" "$WORK/back"

# (c) insecure_skip_verify: works, and says so once, naming the remote
tf cp "unchecked:$A/b/" "unchecked:$A/f/" --no-progress > "$WORK/out" 2> "$WORK/err"; rc=$?
keep
check "(c) insecure_skip_verify: the copy works" [ "$rc" = 0 ]
check "(c)   one warning naming the remote" \
  bash -c "[ \$(grep -c 'insecure_skip_verify' '$WORK/err') = 1 ] &&
           grep -q \"warn: TLS certificates of remote 'unchecked' are not checked\" '$WORK/err'"
tf ls "unchecked:$A/f/" > "$WORK/out" 2> "$WORK/err" || true
keep
check "(c)   ls over it lists the three objects" bash -c "[ \$(grep -c . '$WORK/out') = 3 ]"
check "(c)   and warns" grep -q "remote 'unchecked'" "$WORK/err"
tf ls "trusted:$A/f/" > "$WORK/out" 2> "$WORK/err" || true
keep
check "(c) no warning for a remote that checks" [ ! -s "$WORK/err" ]

# (d) a ca_bundle that does not exist: one line naming it and the remote, before any request
# (with the curl trace on, a request would add debug lines)
check "(d) missing ca_bundle: exit 2, one line naming the file and the remote" \
  expect_error 2 "remote 'missing': ca_bundle $SCRATCH/no-such-ca.pem cannot be read" \
  env FERRY_CURL_VERBOSE=1 "$FERRY_BIN" --config "$WORK/tls.toml" --log-level debug \
  cp "$WORK/src" "missing:$A/d/"
keep
printf '[remotes.x]\nendpoint = "%s"\nca_bundle = ""\n' "$FERRY_TEST_S3_TLS_ENDPOINT" \
  > "$WORK/empty.toml"
check "(d) an empty ca_bundle: exit 2, one line" \
  expect_error 2 "\[remotes.x\]: 'ca_bundle' is empty" \
  "$FERRY_BIN" --config "$WORK/empty.toml" ls "x:$A"
printf '[remotes.x]\nendpoint = "%s"\ninsecure_skip_verify = "yes"\n' \
  "$FERRY_TEST_S3_TLS_ENDPOINT" > "$WORK/bad-bool.toml"
check "(d) insecure_skip_verify not a boolean: exit 2, one line" \
  expect_error 2 "'insecure_skip_verify' must be true or false" \
  "$FERRY_BIN" --config "$WORK/bad-bool.toml" ls "x:$A"

# (e) a bundle of another CA: refused like none, naming the bundle
check "(e) ca_bundle of another CA: exit 1, one line" \
  expect_error 1 "$untrusted.*; remote 'wrongca' trusts only the CAs of its ca_bundle $SCRATCH/o" \
  tf ls "wrongca:$A"
keep
check "(e) cp with it: refused too" \
  expect_error 1 "not trusted" tf cp "$WORK/src" "wrongca:$A/g/" --no-progress --no-state
keep

check "the secret key never shows" \
  bash -c "! grep -qF -- '$FERRY_TEST_S3_SECRET_KEY' '$WORK/all-output'"
check "  (and there was output to look at)" grep -q "not trusted" "$WORK/all-output"
finish
