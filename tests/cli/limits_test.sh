#!/usr/bin/env bash
# Limits (docs/design/limits.md): --bwlimit (one rate, UP:DOWN, a timetable in local time),
# --max-rps per endpoint, the config's [limits] and a worker that reads them again on SIGHUP,
# against the RGW pair. The limits are lower bounds on time (a copy cannot go faster than its
# limit allows), so the checks hold however loaded the machine is; the metrics say what waited.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
MIB=$((1024 * 1024))

# value FILE SERIES: the sample value of one series (exact name and labels), or nothing
value() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# timed CMD...: runs CMD (its output in $WORK/out and $WORK/err); sets rc (its exit status) and
# t (the seconds it took)
timed() {
  local t0 t1; rc=0
  t0=$(date +%s.%N); "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?; t1=$(date +%s.%N)
  t=$(python3 -c "print(round($t1 - $t0, 3))")
}
at_least() { python3 -c "import sys; sys.exit(0 if $1 >= $2 else 1)"; }

# --- bad input: one line, exit 2 -------------------------------------------------------------
check "--bwlimit 10X: exit 2, one line naming the flag" \
  expect_error 2 "ferry: error: --bwlimit: bad rate '10X'" ferry --bwlimit 10X ls "ra:$A"
check "a timetable slot at 25:00: exit 2, one line naming it" \
  expect_error 2 "bad time '25:00' in timetable slot '25:00,1M'" ferry --bwlimit "08:00,1M 25:00,1M" ls "ra:$A"
check "two slots at one time: exit 2" \
  expect_error 2 "two timetable slots at Mon-08:00" ferry --bwlimit "08:00,1M Mon-08:00,2M" ls "ra:$A"
check "--max-rps 0: exit 2" expect_error 2 "max-rps" ferry --max-rps 0 ls "ra:$A"
cp "$CONF" "$WORK/bad.toml"
printf '\n[limits]\nbwlimit = "fast"\n' >> "$WORK/bad.toml"
check "[limits] bwlimit = \"fast\": exit 2, one line naming the file and key" \
  expect_error 2 "bad.toml: \[limits\]: 'bwlimit'" "$FERRY_BIN" --config "$WORK/bad.toml" ls "ra:$A"
cp "$CONF" "$WORK/bad2.toml"
printf '\n[limits]\nmax_rsp = 5\n' >> "$WORK/bad2.toml"
check "[limits] with an unknown key: exit 2" \
  expect_error 2 "unknown key 'max_rsp'" "$FERRY_BIN" --config "$WORK/bad2.toml" ls "ra:$A"

# --- bandwidth, up ---------------------------------------------------------------------------
mkdir -p "$WORK/up"
for i in 1 2 3 4; do head -c $((2 * MIB)) /dev/urandom > "$WORK/up/f$i"; done
timed ferry sync "$WORK/up" "ra:$A/up" --bwlimit 2M --no-progress --metrics-file "$WORK/up.prom"
check "8 MiB up at --bwlimit 2M: copied" [ "$rc" = 0 ]
echo "  took $t s"
# 8 MiB at 2 MiB/s, less the first burst (a tenth of a second's worth)
check "  in 3.9 s or more" at_least "$t" 3.9
check "  the upload waited (ferry_limit_wait_seconds_total{limit=\"bwlimit_up\"})" \
  at_least "$(value "$WORK/up.prom" 'ferry_limit_wait_seconds_total{limit="bwlimit_up"}')" 2
check "  the rate in force is in the metrics" \
  [ "$(value "$WORK/up.prom" 'ferry_limit_bytes_per_second{direction="up"}')" = 2097152 ]
check "  the limit is logged once" [ "$(grep -c 'limits: --bwlimit "2M" (now 2 MiB/s up, 2 MiB/s down)' "$WORK/err")" = 1 ]

# --- bandwidth, down only (UP:DOWN) -----------------------------------------------------------
timed ferry sync "ra:$A/up" "$WORK/down" --bwlimit off:2M --no-progress --metrics-file "$WORK/down.prom"
check "8 MiB down at --bwlimit off:2M: copied" [ "$rc" = 0 ]
echo "  took $t s"
check "  in 3.9 s or more" at_least "$t" 3.9
check "  the download waited, the upload did not" \
  bash -c "[ \"\$(awk '\$1 == \"ferry_limit_wait_seconds_total{limit=\\\"bwlimit_up\\\"}\" {print \$2}' '$WORK/down.prom')\" = 0 ]"
check "  bytes are the source's" diff -r "$WORK/up" "$WORK/down"

# --- a timetable: today's slot holds -------------------------------------------------------------
today=$(date +%a)
tomorrow=$(date -d tomorrow +%a)
yesterday=$(date -d yesterday +%a)
rm -rf "$WORK/down"
timed ferry sync "ra:$A/up" "$WORK/down" --bwlimit "$yesterday-00:00,off $today-00:00,4M $tomorrow-00:00,off" --no-progress
check "a timetable whose slot of today is 4M: copied" [ "$rc" = 0 ]
echo "  took $t s"
check "  in 1.9 s or more" at_least "$t" 1.9
check "  the log says which rate holds now" grep -q 'now 4 MiB/s up, 4 MiB/s down' "$WORK/err"

# --- requests per second ---------------------------------------------------------------------
mkdir -p "$WORK/small"
for i in $(seq 1 30); do echo "small $i" > "$WORK/small/s$i"; done
timed ferry sync "$WORK/small" "ra:$A/small" --max-rps 10 --no-progress --metrics-file "$WORK/rps.prom"
check "30 small objects at --max-rps 10: copied" [ "$rc" = 0 ]
requests=$(awk '$1 ~ /^ferry_s3_requests_total/ { n += $2 } END { print n }' "$WORK/rps.prom")
echo "  took $t s for $requests requests"
check "  the requests went at 10/s at most (one at once: burst 1)" \
  python3 -c "import sys; sys.exit(0 if $requests <= 10 * $t + 1 else 1)"
check "  at least 30 PUTs, so 2.9 s or more" at_least "$t" 2.9
check "  the waits are in the metrics" \
  at_least "$(value "$WORK/rps.prom" 'ferry_limit_wait_seconds_total{limit="max_rps"}')" 2

# --- [limits] from the config; a worker reads them again on SIGHUP ----------------------------
cp "$CONF" "$WORK/limits.toml"
printf '\n[limits]\nmax_rps = 5\n' >> "$WORK/limits.toml"
STATE=$WORK/state.db
"$FERRY_BIN" --config "$WORK/limits.toml" worker --state "$STATE" > "$WORK/w.out" 2> "$WORK/w.err" &
wpid=$!
logged() { grep -q "$1" "$WORK/w.err"; }
check "a worker with [limits] max_rps = 5 logs it" wait_for 10 logged 'limits: --max-rps 5 per endpoint (burst 1)'
printf '\n[limits]\nmax_rps = 50\nbwlimit = "8M"\n' > "$WORK/tail.toml"
{ sed '/^\[limits\]/,$d' "$WORK/limits.toml"; cat "$WORK/tail.toml"; } > "$WORK/limits2.toml"
mv "$WORK/limits2.toml" "$WORK/limits.toml"
kill -HUP "$wpid"
check "  on SIGHUP it reads them again" wait_for 10 logged 'SIGHUP: \[limits\] read again'
check "  and the new ones hold" wait_for 10 logged 'limits: --bwlimit "8M" (now 8 MiB/s up, 8 MiB/s down), --max-rps 50'
check "  the worker goes on after the SIGHUP" kill -0 "$wpid"
printf '\n[limits]\nbwlimit = "nonsense"\n' >> "$WORK/limits.toml"
kill -HUP "$wpid"
check "  a broken [limits] on SIGHUP is refused with one line" wait_for 10 logged 'SIGHUP: limits not changed'
check "  and the worker goes on" kill -0 "$wpid"
kill -TERM "$wpid"; wrc=0; wait "$wpid" || wrc=$?
check "  SIGTERM ends it with exit 0" [ "$wrc" = 0 ]
finish
