#!/usr/bin/env bash
# libcurl, libpq and libmicrohttpd (and libssl behind them) are loaded on first use, not at start
# (src/base/shared_library.h): commands between local folders never map them, and the commands
# that need them still work. Reads the dynamic loader's own trace (LD_DEBUG=files).
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_PG_URL:?FERRY_TEST_PG_URL must name the test PostgreSQL (scripts/test-all.sh sets it)}"
A=$(new_bucket ra)
mkdir -p "$WORK/src/d" && echo hello > "$WORK/src/f" && head -c 300000 /dev/urandom > "$WORK/src/d/g"

# loaded LIB... < trace: true when the trace shows every LIB loaded
loaded() {
  local lib
  for lib in "$@"; do grep -q "file=$lib " "$WORK/trace" || return 1; done
}
# none_loaded: none of the four in the trace
none_loaded() {
  if grep -E "file=(libcurl\.so|libpq\.so|libmicrohttpd\.so|libssl\.so)" "$WORK/trace"; then
    return 1
  fi
}
traced() { LD_DEBUG=files LD_DEBUG_OUTPUT="$WORK/ld" "$@"; cat "$WORK"/ld.* > "$WORK/trace"; rm -f "$WORK"/ld.*; }

traced ferry --version > /dev/null
check "--version maps none of them" none_loaded

traced ferry cp "$WORK/src" "$WORK/dst" --no-state --no-progress > /dev/null 2>&1
check "a copy between folders maps none of them" none_loaded
check "  and copies" cmp "$WORK/src/d/g" "$WORK/dst/d/g"

traced ferry archive pack "$WORK/src" "$WORK/a.fza" > /dev/null 2>&1
check "archive pack of a folder maps none of them" none_loaded
check "  and packs" test -s "$WORK/a.fza"

traced ferry cp "$WORK/src" "ra:$A" --no-state --no-progress > /dev/null 2>&1
check "a copy to a bucket loads libcurl on its first request" loaded libcurl.so.4
check "  and not libpq" bash -c "! grep -q 'file=libpq.so' '$WORK/trace'"
ferry ls "ra:$A" > "$WORK/ls"
check "  and the objects are there" grep -q "d/g" "$WORK/ls"

traced ferry jobs list --state "$FERRY_TEST_PG_URL" > /dev/null 2>&1 || true
check "a postgres:// state store loads libpq" loaded libpq.so.5
check "  and not libcurl" bash -c "! grep -q 'file=libcurl.so' '$WORK/trace'"
finish
