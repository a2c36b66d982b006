#!/usr/bin/env bash
# Bad input gets one clear error line and a non-zero exit, and changes nothing.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
mkdir -p "$WORK/src" && echo hello > "$WORK/src/f"

check "malformed URL" expect_error 2 "malformed location" ferry cp "$WORK/src" "s3://Bad_Bucket/x"
check "unknown scheme" expect_error 2 "unknown scheme" ferry cp "$WORK/src" "hdfs://bucket/x"
check "gs:// without GCS credentials" expect_error 2 "no GCS credentials" env -u GOOGLE_APPLICATION_CREDENTIALS -u STORAGE_EMULATOR_HOST "$FERRY_BIN" --config "$CONF" cp "$WORK/src" "gs://bucket/x"
check "unknown remote" expect_error 2 "unknown remote 'nope'" ferry cp "$WORK/src" "nope:bucket/x"
check "missing config file" expect_error 1 "config file not found" \
  "$FERRY_BIN" --config "$WORK/does-not-exist.toml" cp "$WORK/src" "ra:$A"
printf '[remotes.ra]\nendpoint = \n' > "$WORK/bad.toml"
check "malformed config" expect_error 2 "malformed config .*bad.toml line 2" \
  "$FERRY_BIN" --config "$WORK/bad.toml" cp "$WORK/src" "ra:$A"
check "unknown bucket" expect_error 1 "bucket not found: s3://ferry-no-such-bucket" \
  ferry cp "$WORK/src" "rb:ferry-no-such-bucket-$$"
check "missing source folder" expect_error 1 "not found" ferry cp "$WORK/nope" "ra:$A"
RA_SECRET=wrong-secret-value check "wrong credentials" expect_error 1 "denied" \
  ferry cp "$WORK/src" "ra:$A"
check "secret never printed" bash -c "! grep -q wrong-secret-value '$WORK/err'"
check "bad size" expect_error 2 "min-size" ferry cp "$WORK/src" "ra:$A" --min-size 12zz
check "bad glob" expect_error 2 "\\[" ferry cp "$WORK/src" "ra:$A" --include "[abc"
check "bad listers" expect_error 2 "--listers: must be between 1 and 256" \
  ferry sync "$WORK/src" "ra:$A" --listers 0
check "bad scan chunk" expect_error 2 "--scan-chunk: must be at least 1" \
  ferry worker --state "$WORK/w.db" --scan-chunk 0
check "no state file for a refused worker" test ! -e "$WORK/w.db"
check "jobs list of a mistyped state file: one line, exit 2" \
  expect_error 2 "no state store at $WORK/typo.db" ferry jobs list --state "$WORK/typo.db"
check "  and no empty store was created there" test ! -e "$WORK/typo.db"
check "nothing was written by the failed runs" \
  bash -c "[ -z \"\$('$FERRY_BIN' --config '$CONF' ls 'ra:$A')\" ]"
check "unknown option" expect_error 2 "error" ferry cp "$WORK/src" "ra:$A" --frobnicate

# Global options are accepted before or after the subcommand (rclone and the AWS CLI do too).
check "--config after the subcommand: same error as before it" \
  expect_error 2 "malformed config .*bad.toml line 2" \
  "$FERRY_BIN" cp "$WORK/src" "ra:$A" --config "$WORK/bad.toml"
check "--config after the subcommand is used" \
  "$FERRY_BIN" cp "$WORK/src" "ra:$A" --config "$CONF" --no-progress --no-state 2>/dev/null
check "  the object arrived" bash -c "'$FERRY_BIN' --config '$CONF' ls 'ra:$A' | grep -q ' f$'"
check "--config before the subcommand is used" \
  "$FERRY_BIN" --config "$CONF" sync "$WORK/src" "ra:$A" --no-progress --no-state 2>/dev/null
FERRY_CURL_VERBOSE=1 "$FERRY_BIN" ls "ra:$A" --config "$CONF" --log-level debug --log-format json \
  2> "$WORK/log" > /dev/null
check "--log-level and --log-format after the subcommand: debug lines, all JSON" python3 -c "
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert any(l['level'] == 'debug' and l['message'].startswith('> GET') for l in lines), lines[:3]
assert not any('Signature=' in json.dumps(l) for l in lines)" "$WORK/log"
FERRY_CURL_VERBOSE=1 "$FERRY_BIN" ls "ra:$A" --config "$CONF" --log-level warn 2> "$WORK/log" >/dev/null
check "--log-level warn drops them" [ ! -s "$WORK/log" ]
check "unknown option after the subcommand: one line, exit 2" \
  expect_error 2 "not expected: --frobnicate" ferry sync "$WORK/src" "ra:$A" --frobnicate
check "unknown option before the subcommand: one line, exit 2" \
  expect_error 2 "not expected: --frobnicate" "$FERRY_BIN" --frobnicate ls "ra:$A"
check "bad --log-level: one line, exit 2" \
  expect_error 2 "log-level" ferry ls "ra:$A" --log-level loud
check "bad --log-format: one line, exit 2" \
  expect_error 2 "log-format" "$FERRY_BIN" --log-format xml ls "ra:$A"
# S3 Express: a directory bucket needs a zone in its name (or an endpoint) to be reached.
printf '%s\n' '[remotes.ex]' 'region = "us-west-2"' 'directory_bucket = true' \
  'access_key_id_env = "RA_KEY"' 'secret_access_key_env = "RA_SECRET"' > "$WORK/express.toml"
check "directory bucket without a zone: one line, exit 2" \
  expect_error 2 "directory bucket 'nozone' has no zone in its name" \
  "$FERRY_BIN" --config "$WORK/express.toml" cp "$WORK/src" "ex:nozone/x"
printf '[remotes.ex]\ndirectory_bucket = "yes"\n' > "$WORK/express-bad.toml"
check "directory_bucket not a boolean: one line, exit 2" \
  expect_error 2 "'directory_bucket' must be true or false" \
  "$FERRY_BIN" --config "$WORK/express-bad.toml" ls "ex:b/"
# --version and help
"$FERRY_BIN" --version > "$WORK/version" 2>&1
check "--version names the version and the commit" grep -Eq '^ferry [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{12}\+?|unknown)\)$' "$WORK/version"
check "  and the libraries it was built against" \
  grep -Eq '^built with: libcurl [0-9.]+, OpenSSL [0-9.]+.*, zstd [0-9.]+, SQLite [0-9.]+, libpq [0-9.]+' "$WORK/version"
check "ferry help sync: the help of sync" bash -c "'$FERRY_BIN' help sync | grep -q -- '--delete'"
check "ferry help cache warm: the help of a subcommand's subcommand" bash -c "'$FERRY_BIN' help cache warm | grep -q -- '--ttl'"
check "ferry help nope: exit 2, one line" expect_error 2 "no command 'nope'" "$FERRY_BIN" help nope
finish
