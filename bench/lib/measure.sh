# Measuring and reporting for the bench scripts (sourced). The caller defines log() and WORK.

# settle: wait until the local object-store servers (ceph-osd, radosgw) are idle, so that no
# tool pays for work an earlier step left them (an upload still being flushed, a bucket still
# being deleted): idle = under BENCH_SETTLE_CPU CPU seconds per second (default 0.15) over one
# second, waiting BENCH_SETTLE_MAX seconds at most (default 60). BENCH_SETTLE=0 skips it. No
# such server on this machine: returns at once.
server_ticks() {
  local pid total=0
  for pid in $(pgrep -x ceph-osd) $(pgrep -x radosgw); do
    # fields 14 and 15 of /proc/PID/stat: utime, stime (clock ticks); the name may hold spaces
    total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }' || echo 0)))
  done
  echo "$total"
}
settle() {
  [ "${BENCH_SETTLE:-1}" = 0 ] && return 0
  [ -n "$(pgrep -x ceph-osd)$(pgrep -x radosgw)" ] || return 0
  local hz max limit before after waited=0
  hz=$(getconf CLK_TCK)
  max=${BENCH_SETTLE_MAX:-60}
  limit=$(awk -v c="${BENCH_SETTLE_CPU:-0.15}" -v h="$hz" 'BEGIN { printf "%d", c * h }')
  while [ "$waited" -lt "$max" ]; do
    before=$(server_ticks); sleep 1; after=$(server_ticks)
    waited=$((waited + 1))
    [ $((after - before)) -le "$limit" ] && return 0
  done
  log "servers still busy after ${max}s; measuring anyway"
}

# timed LOG CMD...: wait until the servers settle, run CMD under /usr/bin/time, its output to
# LOG; sets T_WALL, T_CPU (user + sys s), T_RSS (KiB) and T_SERVERS (CPU seconds the local
# ceph-osd and radosgw processes used meanwhile, "n/a" without them); returns CMD's exit code.
# On a machine whose cores the servers share, a small-object copy's wall is about (the tool's
# CPU + T_SERVERS) / the busy cores: T_SERVERS says how much of a wall is the servers' work.
timed() {
  local logf=$1 tf=$WORK/time.out rc=0 user sys ticks_before
  shift
  settle
  ticks_before=$(server_ticks)
  /usr/bin/time -f "%e %U %S %M" -o "$tf" "$@" > "$logf" 2>&1 || rc=$?
  if [ -n "$(pgrep -x ceph-osd)$(pgrep -x radosgw)" ]; then
    T_SERVERS=$(awk -v a="$ticks_before" -v b="$(server_ticks)" -v h="$(getconf CLK_TCK)" \
      'BEGIN { printf "%.2f", (b - a) / h }')
  else
    T_SERVERS=n/a
  fi
  # on failure GNU time writes "Command exited with non-zero status N" first; the numbers are last
  read -r T_WALL user sys T_RSS < <(tail -n 1 "$tf")
  T_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  if [ "$rc" != 0 ]; then log "command failed ($rc): $* (log: $logf)"; tail -n 5 "$logf" >&2; fi
  return "$rc"
}

# server_setup: how the local RGW is set up, for a result's header: ", RGW usage log on" or
# ", RGW usage log off" (from CEPH_CONF / FERRY_TEST_CEPH_CONF), nothing without a readable
# ceph.conf. scripts/rgw-start.sh's RGW_USAGE_LOG=true (the tests' setting) flushes a usage
# record after every request: one more write per request on the servers, 10-15% more wall time
# for a small-object copy on two cores (bench/results-2026-11-24.md). Figures taken with it on
# and off do not compare.
server_setup() {
  local conf=${CEPH_CONF:-${FERRY_TEST_CEPH_CONF:-}} value
  [ -n "$conf" ] && [ -r "$conf" ] || return 0
  value=$(awk -F' *= *' '$1 == "rgw enable usage log" { print $2 }' "$conf" | tail -n 1)
  case "$value" in
    true) printf ', RGW usage log on (a write per request)' ;;
    *) printf ', RGW usage log off' ;;
  esac
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# report_rows: one markdown row per measurement from the arrays R_GROUP, R_TOOL, R_WALL, R_CPU,
# R_RSS (MiB) and R_CHECK, with wall and CPU as ratios to the "ferry" row of the same group.
# When the caller filled R_SRV (the servers' CPU s, see timed), it goes in after peak RSS.
# Sets FAILURES to the number of rows whose check is not "ok".
report_rows() {
  local i j fw fc rw rc srv
  FAILURES=0
  for i in "${!R_TOOL[@]}"; do
    fw="" fc=""
    for j in "${!R_TOOL[@]}"; do
      if [ "${R_GROUP[$j]}" = "${R_GROUP[$i]}" ] && [ "${R_TOOL[$j]}" = ferry ] && [ "${R_CHECK[$j]}" = ok ]; then
        fw=${R_WALL[$j]} fc=${R_CPU[$j]}
      fi
    done
    rw=n/a rc=n/a
    if [ -n "$fw" ]; then rw=$(ratio "${R_WALL[$i]}" "$fw"); rc=$(ratio "${R_CPU[$i]}" "$fc"); fi
    [ "${R_CHECK[$i]}" = ok ] || FAILURES=$((FAILURES + 1))
    srv=""
    if [ -n "${R_SRV+set}" ] && [ "${#R_SRV[@]}" -gt 0 ]; then srv=" ${R_SRV[$i]} |"; fi
    printf '| %s | %s | %s | %s | %s |%s %s | %s | %s |\n' "${R_GROUP[$i]}" "${R_TOOL[$i]}" \
      "${R_WALL[$i]}" "${R_CPU[$i]}" "${R_RSS[$i]}" "$srv" "$rw" "$rc" "${R_CHECK[$i]}"
  done
}

# ensure_ferry_bin: FERRY_BIN as given, else a Release build of ferry in build-release/ (run from
# the project root; uses the caller's log and die).
ensure_ferry_bin() {
  if [ -z "${FERRY_BIN:-}" ]; then
    log "building ferry (Release, build-release/)"
    FERRY_BIN=$(build_release_ferry) || die "the build of ferry failed"
  fi
  [ -x "$FERRY_BIN" ] || die "no ferry binary at $FERRY_BIN"
}
