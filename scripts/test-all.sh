#!/usr/bin/env bash
# THE test command of ferry (CI runs it through .ci/run):
#
#   bash scripts/test-all.sh
#
# 1. installs what is missing (scripts/install-deps.sh: compiler and libraries first; Ceph RGW,
#    PostgreSQL, Swift, the AWS CLI and promtool in the background while the build runs) - a
#    second run skips this in under a second;
# 1b. checks the module rule (scripts/check-modules.py: every include between src/'s modules is an
#    edge the list in docs/architecture.md allows), counted as one test;
# 2. starts two RGW gateways (regions A and B), PostgreSQL and OpenStack Swift (S3 layer: the
#    "less capable" endpoint) in the background, each as soon as its packages are in, because
#    the RGW cold start (~25 s) then overlaps the build instead of adding to it;
# 3. configures and builds (RelWithDebInfo with line-only debug info, -DFERRY_DEBUG_INFO=lines:
#    backtraces keep file:line, the build takes far less CPU; each library compiled as unity
#    batches, -DFERRY_LIB_UNITY=ON; warnings are errors) into build/: the ferry command only,
#    as the suites of ctest run in the sanitizer builds (5b), or everything with
#    FERRY_SANITIZERS=0;
# 4. with FERRY_SANITIZERS=0: runs the unit and conformance tests (ctest -L
#    'unit|conformance'; fuzz_replay_test feeds every fuzz target its seeds and past crashes);
# 5. exports FERRY_TEST_* and FERRY_BIN and runs (with FERRY_SANITIZERS=0) the integration
#    tests (ctest -L integration, two at a time; those that restart PostgreSQL alone: RUN_SERIAL
#    in cmake/FerryTest.cmake) and then every tests/cli/*.sh, two at a time (end-to-end tests of
#    the ferry binary: a bash script that exits non-zero on failure; exit code 77 means
#    "skipped"; run_cli_scripts says which run one after another);
# 5b. by default (FERRY_SANITIZERS=1; scripts/lib/sanitizers.sh, docs/design/hardening.md):
#    build-asan (clang, ASan+UBSan and libFuzzer coverage: every test executable and fuzzer) and
#    then build-tsan (TSan: the tests of the executor, workers, claims, locks, HTTP server,
#    limits) build niced in the background from the moment build/ is configured, while the
#    command builds and the CLI scripts run; then the unit, conformance and integration suites
#    run in build-asan (as soon as it is built; build-tsan goes on beside them, and every fuzz
#    target for FERRY_FUZZ_SECONDS, niced: scripts/fuzz.sh), and then the TSan tests.
#    FERRY_SANITIZERS=0 runs the suites in build/ instead (quicker on a machine where build/ is
#    already built); FERRY_TEST_PLAIN=1 runs them in build/ as well;
# 6. stops the servers it started (never ones that were already running) and prints, as its
#    last line, "N passed, N failed" over all ctest tests and CLI scripts. A step that breaks
#    before tests can run (build, server start) counts as one failure. A test or script that
#    fails is run once more (alone); if it passes then, it is FLAKY: named with its count above
#    the summary line (a CLI script with the tail of its first run), the logs of both runs kept.
#    A FLAKY test counts as passed, unless it is on the data path (copy, sync, durable runs,
#    replicate, transport, archive, backup, cache, serve: note_flaky), where it is a possible
#    race in ferry and counts as failed; more than two FLAKY in one run (FERRY_TEST_FLAKY_MAX)
#    fail the run too. A timing assumption of a test on a loaded machine is seen and bounded,
#    never free: each closing note names every FLAKY with its cause or its fix.
# Exit status: 0 only if nothing failed and at least one test ran.
#
# Environment for the tests (exported before steps 5): FERRY_BIN, FERRY_TEST_S3_ENDPOINT,
# FERRY_TEST_S3_ACCESS_KEY, FERRY_TEST_S3_SECRET_KEY, FERRY_TEST_S3_REGION (region A), the same
# with the suffix _B (region B), FERRY_TEST_PG_URL, FERRY_TEST_CEPH_CONF (radosgw-admin -c ...,
# e.g. `usage show`; empty when the pair was given from outside), FERRY_TEST_SWIFT_ENDPOINT,
# FERRY_TEST_SWIFT_ACCESS_KEY, FERRY_TEST_SWIFT_SECRET_KEY and, for CLI scripts only,
# FERRY_TEST_TMPDIR (a fresh scratch dir per script), FERRY_TEST_ARTIFACTS (build/test-artifacts:
# what a script leaves to look at, e.g. the dashboard's screenshot); FERRY_TEST_THROWAWAY_SERVERS=1 when this
# run started RGW and Swift and removes their state at the end (the scripts then leave their
# buckets).
# FERRY_TEST_S3_TLS_ENDPOINT, FERRY_TEST_S3_TLS_CA: region A over HTTPS, the CA of its certificate.
#
# Knobs:
#   FERRY_TEST_S3_* (all eight) already set: use that RGW pair, start none.
#   FERRY_TEST_PG_URL already set: use that PostgreSQL, start none.
#   FERRY_TEST_SWIFT_ENDPOINT already set: use that Swift, start none.
#   RGW_DIR / RGW_PORT / ... : passed on to scripts/rgw-start.sh. On a machine where another RGW pair
#     already listens on 7480/7481, point RGW_DIR at its state dir (e.g. RGW_DIR=/tmp/s3-rgw) to reuse it.
#   RGW_USAGE_LOG: default true here, so tests can count requests (radosgw-admin usage show).
#   RGW_OBJECTSTORE: bluestore (default: on disk, a sparse file of RGW_STORE_GB; the scripts
#     leave their buckets to the end) or memstore (the OSD holds the objects in memory, a quarter
#     less server CPU, but several GiB of RAM and more; the scripts empty their buckets).
#   FERRY_TEST_KEEP_SERVERS=1: leave the servers running at the end (faster next run).
#   FERRY_CMAKE_ARGS: extra configure arguments, e.g. "-DFERRY_SANITIZE=address,undefined" or
#     "-DFERRY_DEBUG_INFO=full" (full debug info; cmake/BuildSpeed.cmake has the build knobs).
#   FERRY_CLI_TIMEOUT: seconds per CLI script (default 900).
#   FERRY_CLI_LANES: how many CLI scripts run side by side (default 2; 1 = one after another).
#   FERRY_SANITIZERS: 1 (default) the sanitizer builds, suites and fuzzing instead of the plain
#     suites; 0 the plain suites in build/ only.
#   FERRY_TEST_PLAIN=1: with FERRY_SANITIZERS=1, the plain suites as well.
#   FERRY_FUZZ_SECONDS: how long each fuzz target runs (default 30).
#   FERRY_TEST_RETRIES=0: a failing test or script is not run a second time.
#   FERRY_TEST_FLAKY_MAX: how many FLAKY tests (off the data path) a passing run may have (default 2).
#   FERRY_TEST_KEEP_WORK=1: each CLI script keeps its scratch dir (/tmp/ferry-cli-test.*: state files, logs) to look into.
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/sanitizers.sh
source "$FERRY_ROOT/scripts/lib/sanitizers.sh"

T0=$SECONDS
LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ferry-test.XXXXXX")
passed=0
failed=0
broken=()          # names of steps that failed outside of a test
flaky=()           # tests and scripts that passed only when run a second time
summary_done=0
rgw_mode=none      # none | given | reused | ours | stopped
pg_mode=none
rgw_job=""
pg_job=""
swift_mode=none
swift_job=""
azurite_mode=none
azurite_job=""
gcs_mode=none
gcs_job=""
deps_job=""        # the background install of the servers' packages

# progress on stdout, so that it interleaves in order with the ctest output
log() { printf '[test-all %s +%ss] %s\n' "$(date +%T)" "$((SECONDS - T0))" "$*"; }
step_failed() { log "FAILED: $1"; broken+=("$1"); failed=$((failed + 1)); }
# phase_begin NAME / phase_end: how long a phase took and how much of the machine's CPU stood idle
# meanwhile (/proc/stat: idle + iowait over every core), so that a log shows where the run waited
# with cores to spare and where it was CPU-bound
cpu_ticks() { awk '/^cpu /{ t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }' /proc/stat; }
# server_ticks: the CPU the servers have used so far (clock ticks), theirs and their reaped
# children's (PostgreSQL's backends): Ceph (mon, osd, the gateways), PostgreSQL, Swift and its
# memcached, the emulators (node)
server_ticks() {
  local p total=0 t
  for p in $(pgrep -x 'radosgw|ceph-mon|ceph-osd|postgres|memcached|node|swift-.*' 2>/dev/null); do
    t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null) || continue
    total=$((total + ${t:-0}))
  done
  echo "$total"
}
phase_begin() {
  PHASE_NAME=$1; PHASE_T=$SECONDS; read -r PHASE_TOT PHASE_IDLE < <(cpu_ticks)
  PHASE_SERVERS=$(server_ticks)
}
# phase_end: also the CPU-s all cores spent meanwhile, and the servers' share of it
phase_end() {
  local tot idle hz servers
  read -r tot idle < <(cpu_ticks)
  servers=$(server_ticks)
  hz=$(getconf CLK_TCK)
  [ "$tot" -gt "$PHASE_TOT" ] || tot=$((PHASE_TOT + 1))
  log "phase \"$PHASE_NAME\": $((SECONDS - PHASE_T)) s, CPUs idle $(( (idle - PHASE_IDLE) * 100 / (tot - PHASE_TOT) ))% of it;" \
    "$(( (tot - PHASE_TOT - idle + PHASE_IDLE) / hz )) CPU-s used, the servers' $(( (servers - PHASE_SERVERS) / hz ))"
}
# cpu_used CMD...: runs CMD in a subshell and logs the CPU-s its processes used (bash's `times`:
# the children's user + system time) as "cpu: NAME used N CPU-s"; CPU_NAME names it (default:
# the command)
cpu_used() {
  local name=${CPU_NAME:-$1}
  ( rc=0; "$@" || rc=$?
    # `times` in this shell (a pipe would run it in a child that has reaped nothing)
    local f=$LOG_DIR/times.$BASHPID  # (in $(...) below, BASHPID is that child's)
    times > "$f"
    log "cpu: $name used $(awk 'NR == 2 {
      t = 0
      for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
      printf "%.0f", t }' "$f") CPU-s"
    rm -f "$f"
    exit "$rc" )
}

# ------------------------------------------------------------------ servers
# The servers' packages (scripts/install-deps.sh rgw pg swift aws prom) install in the background
# while the build runs; each server start waits for them (deps_ready) first.
# Not root: in the foreground, as sudo may ask for a password.
# The `tools` group (rclone, systemd-analyze) installs after them and apart: if it fails, the one
# or two scripts that need it fail, saying so, not every test.
start_deps() {
  if [ "$(id -u)" != 0 ]; then
    bash scripts/install-deps.sh rgw pg swift aws prom browser san azurite gcs image
    bash scripts/install-deps.sh tools || log "warning: the tools group did not install (rclone, systemd)"
    echo 0 > "$LOG_DIR/deps.rc"
    return 0
  fi
  ( rc=0
    bash scripts/install-deps.sh rgw pg swift aws prom browser san azurite gcs image > "$LOG_DIR/deps.log" 2>&1 || rc=$?
    echo "$rc" > "$LOG_DIR/deps.rc.tmp" && mv "$LOG_DIR/deps.rc.tmp" "$LOG_DIR/deps.rc"
    # the servers start meanwhile; wait_servers waits for this job, so before any test runs
    bash scripts/install-deps.sh tools >> "$LOG_DIR/deps.log" 2>&1 \
      || echo "warning: the tools group did not install (rclone, systemd)" >> "$LOG_DIR/deps.log" ) &
  deps_job=$!
}
# deps_ready: waits for the background install; false (one line on stderr) when it failed
deps_ready() {
  while [ ! -s "$LOG_DIR/deps.rc" ]; do sleep 0.2; done
  [ "$(cat "$LOG_DIR/deps.rc")" = 0 ] && return 0
  echo "the servers' packages did not install (scripts/install-deps.sh rgw pg swift aws prom browser san azurite gcs image)" >&2
  return 1
}

start_servers() {
  if [ -n "${FERRY_TEST_S3_ENDPOINT:-}" ]; then
    rgw_mode=given
    log "RGW: using the pair given in FERRY_TEST_S3_* ($FERRY_TEST_S3_ENDPOINT, ${FERRY_TEST_S3_ENDPOINT_B:-?})"
  else
    # decide up front whether this run owns the cluster: only then is it stopped at the end
    if RGW_INSTANCES=2 bash scripts/rgw-start.sh --status >/dev/null 2>&1; then
      rgw_mode=reused
      log "RGW: a pair is already running under ${RGW_DIR:-/tmp/ferry-rgw}; reusing it (it will be left running)"
    else
      rgw_mode=ours
      log "RGW: starting two gateways in the background (log: $LOG_DIR/rgw.log)"
    fi
    # the suite moves several GiB (a 1 GiB resume, the 2 GiB kills test): room to spare in the
    # sparse bluestore file, so that a full OSD never stalls a test. RGW_OBJECTSTORE=memstore
    # (measured in session 44, not the default): the same loads cost the servers about a quarter
    # less CPU (3,000 x 8 KiB and 300 MiB up and down: 19.4 and 20.7 CPU-s against 25.6 and
    # 28.0), but the OSD kept what the suite wrote in memory (13.4 GiB with half the scripts run
    # and their buckets left; 9.5 GiB at a quarter of them with the buckets emptied), and
    # replicate_durable_test's SIGKILL came after the faster pass had finished.
    { deps_ready && RGW_INSTANCES=2 RGW_USAGE_LOG=${RGW_USAGE_LOG:-true} RGW_STORE_GB=${RGW_STORE_GB:-40} \
      RGW_OBJECTSTORE=${RGW_OBJECTSTORE:-bluestore} bash scripts/rgw-start.sh; } \
      > "$LOG_DIR/rgw.env" 2> "$LOG_DIR/rgw.log" &
    rgw_job=$!
  fi
  if [ -n "${FERRY_TEST_PG_URL:-}" ]; then
    pg_mode=given
    log "PostgreSQL: using FERRY_TEST_PG_URL"
  else
    if bash scripts/pg-start.sh --status >/dev/null 2>&1; then pg_mode=reused; else pg_mode=ours; fi
    { deps_ready && bash scripts/pg-start.sh; } > "$LOG_DIR/pg.env" 2> "$LOG_DIR/pg.log" &
    pg_job=$!
  fi
  if [ -n "${FERRY_TEST_SWIFT_ENDPOINT:-}" ]; then
    swift_mode=given
  else
    if bash scripts/swift-start.sh --status >/dev/null 2>&1; then swift_mode=reused; else swift_mode=ours; fi
    { deps_ready && bash scripts/swift-start.sh; } > "$LOG_DIR/swift.env" 2> "$LOG_DIR/swift.log" &
    swift_job=$!
  fi
  # Azurite (the Azure Blob API, in memory): the Azure backend's conformance cases and
  # tests/cli/azure_test.sh
  if [ -n "${FERRY_TEST_AZURE_ENDPOINT:-}" ]; then
    azurite_mode=given
  else
    if bash scripts/azurite-start.sh --status >/dev/null 2>&1; then azurite_mode=reused; else azurite_mode=ours; fi
    { deps_ready && AZURITE_INSTALL=0 bash scripts/azurite-start.sh; } > "$LOG_DIR/azurite.env" \
      2> "$LOG_DIR/azurite.log" &
    azurite_job=$!
  fi
  # the Cloud Storage emulator (firebase-tools', the GCS JSON API, in memory): the GCS backend's
  # conformance cases and tests/cli/gcs_test.sh
  if [ -n "${FERRY_TEST_GCS_ENDPOINT:-}" ]; then
    gcs_mode=given
  else
    if bash scripts/gcs-emulator-start.sh --status >/dev/null 2>&1; then gcs_mode=reused; else gcs_mode=ours; fi
    { deps_ready && GCS_EMULATOR_INSTALL=0 bash scripts/gcs-emulator-start.sh; } > "$LOG_DIR/gcs.env" \
      2> "$LOG_DIR/gcs.log" &
    gcs_job=$!
  fi
}

# wait for the background starts and export what the tests read; false if a server is missing
wait_servers() {
  local ok=0
  if [ -n "$deps_job" ]; then
    # the AWS CLI of the tests comes with the servers' packages
    wait "$deps_job" 2>/dev/null || true
    deps_job=""
    if ! deps_ready 2>/dev/null; then
      cat "$LOG_DIR/deps.log"
      step_failed "installing the servers' packages (log above)"
      ok=1
    fi
  fi
  if [ -n "$rgw_job" ]; then
    if wait "$rgw_job"; then
      load_kv "$LOG_DIR/rgw.env"
      export FERRY_TEST_S3_ENDPOINT=$S3_ENDPOINT FERRY_TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY
      export FERRY_TEST_S3_SECRET_KEY=$S3_SECRET_KEY FERRY_TEST_S3_REGION=$S3_REGION
      export FERRY_TEST_S3_ENDPOINT_B=$S3_ENDPOINT_B FERRY_TEST_S3_ACCESS_KEY_B=$S3_ACCESS_KEY_B
      export FERRY_TEST_S3_SECRET_KEY_B=$S3_SECRET_KEY_B FERRY_TEST_S3_REGION_B=$S3_REGION_B
      export FERRY_TEST_S3_TLS_ENDPOINT=${S3_TLS_ENDPOINT:-} FERRY_TEST_S3_TLS_CA=${S3_TLS_CA:-}
      export FERRY_TEST_S3_STS_ENDPOINT=${S3_STS_ENDPOINT:-}  # zone A with STS (credentials_test)
      export FERRY_TEST_CEPH_CONF=$CEPH_CONF
      # second account of gateway A (tests/cli/object_lock_test.sh)
      export FERRY_TEST_S3_ACCESS_KEY_OTHER=${S3_ACCESS_KEY_OTHER:-}
      export FERRY_TEST_S3_SECRET_KEY_OTHER=${S3_SECRET_KEY_OTHER:-}
      export FERRY_TEST_S3_OTHER_USER_ID=${S3_OTHER_USER_ID:-}
      log "RGW ready: A=$S3_ENDPOINT ($S3_REGION)  B=$S3_ENDPOINT_B ($S3_REGION_B)"
    else
      cat "$LOG_DIR/rgw.log"
      step_failed "RGW start (log above; daemon logs under ${RGW_DIR:-/tmp/ferry-rgw}/log if kept)"
      ok=1
    fi
    rgw_job=""
  fi
  export FERRY_TEST_CEPH_CONF=${FERRY_TEST_CEPH_CONF:-}
  if [ -n "$pg_job" ]; then
    if wait "$pg_job"; then
      load_kv "$LOG_DIR/pg.env"
      export FERRY_TEST_PG_URL=$PG_URL
      # how tests restart the server to prove that workers reconnect
      export FERRY_TEST_PG_CTL_RESTART="bash $FERRY_ROOT/scripts/pg-restart.sh"
      log "PostgreSQL ready: $PG_URL"
    else
      cat "$LOG_DIR/pg.log"
      step_failed "PostgreSQL start (log above)"
      ok=1
    fi
    pg_job=""
  fi
  if [ -n "$swift_job" ]; then
    if wait "$swift_job"; then
      load_kv "$LOG_DIR/swift.env"
      export FERRY_TEST_SWIFT_ENDPOINT=$SWIFT_S3_ENDPOINT
      export FERRY_TEST_SWIFT_ACCESS_KEY=$SWIFT_S3_ACCESS_KEY
      export FERRY_TEST_SWIFT_SECRET_KEY=$SWIFT_S3_SECRET_KEY
      log "Swift ready: $SWIFT_S3_ENDPOINT"
    else
      cat "$LOG_DIR/swift.log"
      step_failed "Swift start (log above)"
      ok=1
    fi
    swift_job=""
  fi
  if [ -n "$azurite_job" ]; then
    if wait "$azurite_job"; then
      load_kv "$LOG_DIR/azurite.env"
      export FERRY_TEST_AZURE_ENDPOINT FERRY_TEST_AZURE_ACCOUNT FERRY_TEST_AZURE_KEY
      log "Azurite ready: $FERRY_TEST_AZURE_ENDPOINT"
    else
      cat "$LOG_DIR/azurite.log"
      step_failed "Azurite start (log above)"
      ok=1
    fi
    azurite_job=""
  fi
  if [ -n "$gcs_job" ]; then
    if wait "$gcs_job"; then
      load_kv "$LOG_DIR/gcs.env"
      export FERRY_TEST_GCS_ENDPOINT
      log "GCS emulator ready: $FERRY_TEST_GCS_ENDPOINT"
    else
      cat "$LOG_DIR/gcs.log"
      step_failed "GCS emulator start (log above)"
      ok=1
    fi
    gcs_job=""
  fi
  return $ok
}

# rgw_footprint: one line on what the suite left in the gateways (the cluster's stored bytes and
# objects) and the OSD's and gateways' peak resident memory, CPU and where they run: what a choice
# of object store (bluestore on disk, or memstore, which holds all of it in RAM) must fit
rgw_footprint() {
  local conf=${FERRY_TEST_CEPH_CONF:-} dir stored p line=""
  [ -n "$conf" ] || return 0
  # without a ceph-mgr `ceph df` knows nothing: the OSD's own counters, and the disk its sparse
  # block file took (bluestore gives back no space of deleted objects to the file system: about
  # what the suite wrote at its most)
  dir=$(dirname "$conf")
  stored=$(timeout 20 ceph --admin-daemon "$dir/run/osd.0.asok" perf dump 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
b = d.get("bluestore")
if b is None:
    print("memstore: the data in the OSD memory (its peak below)")
else:
    print("%.2f GiB stored in %d objects" % (b.get("bluestore_stored", 0) / 2**30, b.get("bluestore_onodes", 0)))' 2>/dev/null) || stored="?"
  [ -f "$dir/osd.0.block" ] && stored+=", $(du -k "$dir/osd.0.block" | awk '{ printf "%.2f GiB", $1 / 1048576 }') of block file written"
  for p in $(pgrep -f "ceph-osd -c $conf" 2>/dev/null) $(pgrep -f "radosgw -c $conf" 2>/dev/null); do
    line+=" $(cat "/proc/$p/comm" 2>/dev/null) peak $(awk '/VmHWM/ { printf "%d MiB", $2 / 1024 }' "/proc/$p/status" 2>/dev/null), CPU $(awk '{ printf "%d s", ($14 + $15) / 100 }' "/proc/$p/stat" 2>/dev/null);"
  done
  log "RGW at the end: ${stored:-?};$line"
}

# stop only what this run started; safe to call more than once
stop_servers() {
  san_stop
  # a start still in progress must finish first, or daemons it launches later would survive
  if [ -n "$deps_job" ]; then wait "$deps_job" 2>/dev/null || true; deps_job=""; fi
  if [ -n "$rgw_job" ]; then wait "$rgw_job" 2>/dev/null || true; rgw_job=""; fi
  if [ -n "$pg_job" ]; then wait "$pg_job" 2>/dev/null || true; pg_job=""; fi
  if [ -n "$swift_job" ]; then wait "$swift_job" 2>/dev/null || true; swift_job=""; fi
  if [ -n "$azurite_job" ]; then wait "$azurite_job" 2>/dev/null || true; azurite_job=""; fi
  if [ -n "$gcs_job" ]; then wait "$gcs_job" 2>/dev/null || true; gcs_job=""; fi
  local keep=${FERRY_TEST_KEEP_SERVERS:-0}
  if [ "$rgw_mode" = ours ]; then
    rgw_footprint
    if [ "$keep" = 1 ]; then
      log "RGW left running (FERRY_TEST_KEEP_SERVERS=1); stop it with: bash scripts/rgw-stop.sh"
    else
      # the state is thrown away, so radosgw (which often ignores SIGTERM) gets SIGKILL after 1 s
      RGW_STOP_WAIT=${RGW_STOP_WAIT:-1} bash scripts/rgw-stop.sh >> "$LOG_DIR/stop.log" 2>&1 || true
    fi
  fi
  if [ "$pg_mode" = ours ]; then
    if [ "$keep" = 1 ]; then
      log "PostgreSQL left running; stop it with: bash scripts/pg-stop.sh"
    else
      bash scripts/pg-stop.sh >> "$LOG_DIR/stop.log" 2>&1 || true
    fi
  fi
  if [ "$swift_mode" = ours ]; then
    if [ "$keep" = 1 ]; then
      log "Swift left running; stop it with: bash scripts/swift-stop.sh"
    else
      bash scripts/swift-stop.sh >> "$LOG_DIR/stop.log" 2>&1 || true
    fi
  fi
  if [ "$azurite_mode" = ours ]; then
    if [ "$keep" = 1 ]; then
      log "Azurite left running; stop it with: kill \$(cat ${AZURITE_DIR:-/tmp/ferry-azurite}/azurite.pid)"
    else
      local azpid
      azpid=$(cat "${AZURITE_DIR:-/tmp/ferry-azurite}/azurite.pid" 2>/dev/null || true)
      [ -z "$azpid" ] || kill "$azpid" 2>/dev/null || true
    fi
  fi
  if [ "$gcs_mode" = ours ]; then
    if [ "$keep" = 1 ]; then
      log "GCS emulator left running; stop it with: kill \$(cat ${GCS_EMULATOR_DIR:-/tmp/ferry-gcs-emulator}/gcs-emulator.pid)"
    else
      local gcspid
      gcspid=$(cat "${GCS_EMULATOR_DIR:-/tmp/ferry-gcs-emulator}/gcs-emulator.pid" 2>/dev/null || true)
      [ -z "$gcspid" ] || kill "$gcspid" 2>/dev/null || true
    fi
  fi
  rgw_mode=stopped
  pg_mode=stopped
  swift_mode=stopped
  azurite_mode=stopped
  gcs_mode=stopped
}

# the last line of the output, always
finish() {
  stop_servers
  local rc=${1:-0}
  if [ ${#broken[@]} -gt 0 ]; then log "broken steps: ${broken[*]}"; fi
  judge_flaky
  if [ $((passed + failed)) -eq 0 ]; then
    log "no test ran at all: that is a failure"
    [ "$rc" != 0 ] || rc=1
  fi
  [ "$failed" -eq 0 ] || [ "$rc" != 0 ] || rc=1
  if [ "$rc" = 0 ] && [ ${#flaky[@]} = 0 ]; then rm -rf "$LOG_DIR"; else log "logs kept in $LOG_DIR"; fi
  log "total $((SECONDS - T0)) s"
  summary_done=1
  echo "$passed passed, $failed failed"
  exit "$rc"
}

# Which tests are on the data path: those of a capability that moves, keeps or deletes bytes.
# A ctest test is off it when its executable is built in one of OFF_PATH_MODULES (src/<module>);
# a CLI script when its name is one of OFF_PATH_SCRIPTS. Everything else is on it (copy and
# sync, durable runs and jobs, plan, storage, replicate, transport, archive, backup, cache,
# serve, state...), and so is any new module or script until it is named here.
OFF_PATH_MODULES=' base obs http credentials events sns sqs dashboard estimate cli limits retry verify '
OFF_PATH_SCRIPTS=' alert_rules_test alerts_e2e_test bad_input_test credentials_test dashboard_test deploy_test estimate_test events_setup_test events_setup_aws_test libraries_test metrics_test package_test secrets_test systemd_units_test verify_test verify_checksums_test worker_config_error_test '
flaky_data=()      # the FLAKY ones on the data path

# note_flaky NAME [CTEST_DIR]: NAME passed only on its second run; a ctest test's module is
# read from the command ctest runs for it (build*/src/<module>/...)
note_flaky() {
  local name=$1 dir=${2:-} module=""
  flaky+=("$name")
  if [ -n "$dir" ]; then
    module=$(ctest --test-dir "$dir" --show-only=json-v1 2>/dev/null | python3 -c '
import json, sys
name = sys.argv[1]
for t in json.load(sys.stdin).get("tests", []):
    if t.get("name") == name and t.get("command"):
        parts = t["command"][0].split("/")
        print(parts[parts.index("src") + 1] if "src" in parts else "")
        break' "$name" 2>/dev/null || true)
    [[ -n $module && $OFF_PATH_MODULES == *" $module "* ]] && return 0
  else
    [[ $OFF_PATH_SCRIPTS == *" $name "* ]] && return 0
  fi
  flaky_data+=("$name")
}

# judge_flaky: what the tests that passed only on their second run mean for this run. Each is
# named (a CLI script with the tail of its first run's output; a ctest test's first output is
# above, --output-on-failure). A FLAKY test is visible and bounded, not free: one on the data
# path fails the run (a possible race in ferry: a double pack was first seen this way), and so
# do more than FERRY_TEST_FLAKY_MAX (default 2) in one run. Those fail as tests: each moves from
# passed to failed; the count beyond the bound is one failed step.
judge_flaky() {
  [ ${#flaky[@]} -gt 0 ] || return 0
  local n max=${FERRY_TEST_FLAKY_MAX:-2}
  log "FLAKY ${#flaky[@]}: passed only when run a second time (both runs' output kept in $LOG_DIR): ${flaky[*]}"
  for n in "${flaky[@]}"; do
    if [ -s "$LOG_DIR/cli/$n.first.log" ]; then
      log "FLAKY $n: the last 40 lines of its first run:"
      tail -n 40 "$LOG_DIR/cli/$n.first.log" | sed 's/^/    /'
    fi
  done
  if [ ${#flaky_data[@]} -gt 0 ]; then
    log "FLAKY on the data path (a possible race in ferry, counted as failed): ${flaky_data[*]}"
    passed=$((passed - ${#flaky_data[@]}))
    failed=$((failed + ${#flaky_data[@]}))
  fi
  if [ ${#flaky[@]} -gt "$max" ]; then
    step_failed "${#flaky[@]} FLAKY tests in one run (more than $max)"
  fi
}

# shellcheck disable=SC2317  # reached through the EXIT trap, not by a call
on_exit() {
  local rc=$?
  [ "$summary_done" = 1 ] && return
  # an unexpected error (set -e) or a signal: still stop our servers and print the summary
  step_failed "test-all.sh itself (exit status $rc)"
  finish "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ tests
# failed_names LOG: the tests ctest listed under "The following tests FAILED:" ("  N - NAME ...")
failed_names() {
  sed -n '/The following tests FAILED:/,$p' "$1" | sed -nE 's/^[[:space:]]+[0-9]+ - ([^ ]+) .*/\1/p'
}

# run_ctest NAME ARGS...: run ctest (in build/, or in $CTEST_DIR), add its counts from the
# "N tests failed out of M" line. The tests that failed run once more (ctest --rerun-failed,
# alone): one that passes then counts as passed and is named in `flaky` (finish prints them
# and keeps the logs); one that fails twice is a failure.
run_ctest() {
  local name=$1; shift
  local out=$LOG_DIR/ctest-$name.log rc=0 line f t names again f2 t2 n
  ctest --test-dir "${CTEST_DIR:-build}" --output-on-failure "$@" 2>&1 | tee "$out" || rc=$?
  line=$(grep -Eo '[0-9]+ tests? failed out of [0-9]+' "$out" | tail -n 1 || true)
  if [ -n "$line" ]; then
    read -r f _ _ _ _ t <<< "$line"
    if [ "$f" -gt 0 ] && [ "${FERRY_TEST_RETRIES:-1}" != 0 ]; then
      names=$(failed_names "$out")
      log "$name: $f failed: running them once more, one at a time"
      again=$LOG_DIR/ctest-$name-again.log
      ctest --test-dir "${CTEST_DIR:-build}" --output-on-failure --rerun-failed 2>&1 \
        | tee "$again" || true
      line=$(grep -Eo '[0-9]+ tests? failed out of [0-9]+' "$again" | tail -n 1 || true)
      if [ -n "$line" ]; then
        read -r f2 _ _ _ _ t2 <<< "$line"
        local still
        still=$(failed_names "$again")
        for n in $names; do
          grep -qxF -- "$n" <<< "$still" || note_flaky "$n" "${CTEST_DIR:-build}"
        done
        f=$f2
        rc=0
        [ "$f" = 0 ] || rc=1
      fi
    fi
    passed=$((passed + t - f))
    failed=$((failed + f))
    log "$name: $((t - f)) passed, $f failed"
    # ctest failed without a failing test (e.g. a test executable could not be listed)
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then step_failed "ctest $name (exit status $rc)"; fi
  elif grep -q 'No tests were found' "$out"; then
    log "$name: no tests"
  else
    step_failed "ctest $name (exit status $rc, no summary line)"
  fi
}

# A gateway of this run's RGW pair that died (RGW 16 segfaulted once in DeleteObjects) is named
# with the crash from its log and started again, so that one server crash fails the suite that
# met it and not every suite after it.
check_rgw() { # $1 = what just ran
  local id port dead=0
  [ "$rgw_mode" = ours ] || [ "$rgw_mode" = reused ] || return 0
  for id in a b; do
    port=${FERRY_TEST_S3_ENDPOINT##*:}
    [ "$id" = b ] && port=${FERRY_TEST_S3_ENDPOINT_B##*:}
    curl -s -o /dev/null -m 5 "http://127.0.0.1:$port/" && continue
    dead=1
    log "RGW $id (port $port) died during $1; its log says:"
    grep -h -A4 'Caught signal' "${RGW_DIR:-/tmp/ferry-rgw}/log/client.rgw.$id.log" 2>/dev/null \
      | tail -n 5 | cut -c1-200 | sed 's/^/    /'
  done
  [ "$dead" = 1 ] || return 0
  if RGW_INSTANCES=2 bash scripts/rgw-start.sh --revive > /dev/null 2>> "$LOG_DIR/rgw.log"; then
    log "RGW pair answering again"
  else
    log "RGW could not be started again (see $LOG_DIR/rgw.log)"
  fi
}

# run_cli_script FILE: one tests/cli/*.sh; its exit status goes to $LOG_DIR/cli/NAME.rc, a line
# to the log (the failures' output is printed by run_cli_scripts once every lane is done)
# cli_timed NAME SCRIPT OUT: runs one script under its timeout, its output to OUT, and writes the
# CPU seconds its process tree used (user + system, as bash's `time` counts the children it
# waited for; the servers' CPU is not in it) to $LOG_DIR/cli/NAME.cpu; its exit status is the
# script's (124: timed out)
cli_timed() {
  local name=$1 f=$2 out=$3 rc=0 TIMEFORMAT='%U %S'
  { time timeout -k 10 "${FERRY_CLI_TIMEOUT:-900}" bash "$f" > "$out" 2>&1 < /dev/null || rc=$?; } \
    2> "$LOG_DIR/cli/$name.time"
  awk '{ printf "%.0f\n", $1 + $2 }' "$LOG_DIR/cli/$name.time" > "$LOG_DIR/cli/$name.cpu" 2>/dev/null || true
  return "$rc"
}

# cli_slowest: the ten scripts that took longest, with their CPU: where the suite's time goes
cli_slowest() {
  local f name rc took cpu
  for f in "$LOG_DIR"/cli/*.rc; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .rc); read -r rc took < "$f"
    cpu=$(cat "$LOG_DIR/cli/$name.cpu" 2>/dev/null || echo "?")
    echo "$took $cpu $name"
  done | sort -rn | head -n 10 | awk '{ printf "%s %s s (%s CPU-s)", (NR > 1 ? "," : ""), $3 " " $1, $2 }' \
    | sed 's/^ //'
}

run_cli_script() {
  local f=$1 name out rc t
  name=$(basename "$f" .sh)
  out=$LOG_DIR/cli/$name.log
  export FERRY_TEST_TMPDIR=$LOG_DIR/cli/$name.tmp
  mkdir -p "$FERRY_TEST_TMPDIR"
  t=$SECONDS rc=0
  cli_timed "$name" "$f" "$out" || rc=$?
  # a failure runs once more, in a fresh scratch dir; passing then, it is named as flaky
  # (its first output kept as NAME.first.log) and counts as passed
  if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ "${FERRY_TEST_RETRIES:-1}" != 0 ]; then
    log "cli: $name failed (exit status $rc, $((SECONDS - t)) s): running it once more"
    mv "$out" "$LOG_DIR/cli/$name.first.log"
    rm -rf "$FERRY_TEST_TMPDIR" && mkdir -p "$FERRY_TEST_TMPDIR"
    ( flock 9; check_rgw "$name" ) 9> "$LOG_DIR/cli/rgw.lock"
    t=$SECONDS rc=0
    cli_timed "$name" "$f" "$out" || rc=$?
    [ "$rc" != 0 ] || touch "$LOG_DIR/cli/$name.flaky"
  fi
  echo "$rc $((SECONDS - t))" > "$LOG_DIR/cli/$name.rc"
  local cpu; cpu=$(cat "$LOG_DIR/cli/$name.cpu" 2>/dev/null || echo "?")
  case $rc in
    0)  log "cli: PASS $name ($((SECONDS - t)) s, $cpu CPU-s)"; rm -rf "$FERRY_TEST_TMPDIR" ;;
    77) log "cli: SKIP $name: $(tail -n 1 "$out")" ;;
    124) log "cli: FAIL $name: timed out after ${FERRY_CLI_TIMEOUT:-900} s" ;;
    *)  log "cli: FAIL $name (exit status $rc, $((SECONDS - t)) s)" ;;
  esac
  # one lane at a time looks at (and revives) the gateways
  ( flock 9; check_rgw "$name" ) 9> "$LOG_DIR/cli/rgw.lock"
}

# cli_lane QUEUE [PINNED...]: runs the PINNED scripts, then takes scripts off the shared QUEUE
# file (one line each) until it is empty
cli_lane() {
  local queue=$1 f; shift
  for f in "$@"; do run_cli_script "$f"; done
  while :; do
    f=$( { flock 9; f=$(head -n 1 "$queue"); [ -z "$f" ] || sed -i 1d "$queue"; echo "$f"; } 9> "$queue.lock")
    [ -n "$f" ] || return 0
    run_cli_script "$f"
  done
}

# Every tests/cli/*.sh, in FERRY_CLI_LANES lanes (default 2) side by side: most scripts spend
# their time waiting (for processes to start, events to arrive, the gateways to answer), so two
# at once share the two cores instead of leaving one idle. The scripts that use PostgreSQL run
# one after another in the first lane, as some restart the server (FERRY_TEST_PG_CTL_RESTART)
# under the others' feet; the rest is taken in sorted (C locale) order by whichever lane is free.
# FERRY_CLI_LANES=1 runs them all one after another.
run_cli_scripts() {
  local scripts=() pg=() rest=() f name rc took lanes=${FERRY_CLI_LANES:-2} pids=() i
  while IFS= read -r -d '' f; do scripts+=("$f"); done \
    < <(find tests/cli -maxdepth 1 -type f -name '*.sh' -print0 2>/dev/null | LC_ALL=C sort -z)
  if [ ${#scripts[@]} -eq 0 ]; then log "cli: no tests/cli/*.sh"; return 0; fi
  [ -x "$FERRY_BIN" ] || log "warning: $FERRY_BIN was not built; the CLI scripts will fail"
  mkdir -p "$LOG_DIR/cli"
  for f in "${scripts[@]}"; do
    if [ "$lanes" -gt 1 ] && grep -q 'FERRY_TEST_PG' "$f"; then pg+=("$f"); else rest+=("$f"); fi
  done
  printf '%s\n' "${rest[@]}" > "$LOG_DIR/cli/queue"
  log "cli: ${#scripts[@]} scripts in $lanes lane(s); the ${#pg[@]} that use PostgreSQL one after another"
  cli_lane "$LOG_DIR/cli/queue" "${pg[@]}" &
  pids+=($!)
  for ((i = 1; i < lanes; i++)); do cli_lane "$LOG_DIR/cli/queue" & pids+=($!); done
  for i in "${pids[@]}"; do wait "$i" || true; done
  for f in "${scripts[@]}"; do
    name=$(basename "$f" .sh)
    if [ ! -s "$LOG_DIR/cli/$name.rc" ]; then
      failed=$((failed + 1)); log "cli: FAIL $name: it did not run (its lane ended first)"; continue
    fi
    read -r rc took < "$LOG_DIR/cli/$name.rc"
    [ ! -e "$LOG_DIR/cli/$name.flaky" ] || note_flaky "$name"
    case $rc in
      0)  passed=$((passed + 1)) ;;
      77) ;;
      *)  failed=$((failed + 1))
          log "cli: FAIL $name (exit status $rc, $took s); last 200 lines of its output:"
          tail -n 200 "$LOG_DIR/cli/$name.log" | sed 's/^/    /' ;;
    esac
  done
  log "cli: the slowest: $(cli_slowest)"
  log "cli: the scripts used $(cat "$LOG_DIR"/cli/*.cpu 2>/dev/null | awk '{ t += $1 } END { print t + 0 }') CPU-s" \
    "(theirs and their processes', not the servers')"
  unset FERRY_TEST_TMPDIR
}

# ------------------------------------------------------------------ main
log "installing dependencies (build; the servers' in the background)"
bash scripts/install-deps.sh build
start_deps

# the module rule: every include between modules is an edge docs/architecture.md allows
log "the module rule (scripts/check-modules.py: includes against docs/architecture.md)"
if python3 scripts/check-modules.py; then
  passed=$((passed + 1))
else
  step_failed "the module rule (scripts/check-modules.py: the includes above are not in the map)"
fi

start_servers

# By default (FERRY_SANITIZERS=1) the suites of ctest run in the sanitizer builds
# (scripts/lib/sanitizers.sh) and build/ makes only the ferry command the CLI scripts run (the
# plain suites too with FERRY_TEST_PLAIN=1); with FERRY_SANITIZERS=0 they run in build/.
plain=${FERRY_TEST_PLAIN:-0}
sanitizers=${FERRY_SANITIZERS:-1}
[ "$sanitizers" = 1 ] || plain=1
# ferry_man: the manual page the package (package_test.sh) and the image (image_test.sh) carry,
# built here once rather than by two scripts' ninja at the same time
targets=(ferry ferry_man)
[ "$plain" = 1 ] && targets=(all)
log "configure + build of ${targets[*]} (RelWithDebInfo, line-only debug info, unity libraries, -Werror)"
extra=()
[ -z "${FERRY_CMAKE_ARGS:-}" ] || read -r -a extra <<< "$FERRY_CMAKE_ARGS"
if ! cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_WERROR=ON \
       -DFERRY_DEBUG_INFO=lines -DFERRY_LIB_UNITY=ON "${extra[@]}"; then
  step_failed "configure"
  finish
fi
# the sanitizer builds start now, at nice 19: they take only the CPU the build of the ferry
# command leaves (its configure steps, links, the last objects of a batch) and all of what the
# CLI scripts leave after it
[ "$sanitizers" = 1 ] && san_build_start
phase_begin "build of ${targets[*]}"
if ! CPU_NAME="the build of ${targets[*]}" cpu_used cmake --build build -j2 --target "${targets[@]}"; then
  step_failed "build"
  finish
fi
phase_end
export FERRY_BIN=$FERRY_ROOT/build/src/cli/ferry

if [ "$plain" = 1 ]; then
  log "unit + conformance tests"
  run_ctest unit -L 'unit|conformance' -j "$(nproc)"
fi

log "waiting for the servers"
if ! wait_servers; then
  log "skipping integration and CLI tests: a server is missing"
  finish
fi

# Both S3 servers are this run's and their state goes at the end: the CLI scripts leave their
# buckets instead of emptying them (tests/cli/testlib.bash cleanup; a minute or two of deletes).
# Not with RGW_OBJECTSTORE=memstore: what the scripts leave would stay in the OSD's memory.
if [ "$rgw_mode" = ours ] && [ "$swift_mode" = ours ] && [ "${FERRY_TEST_KEEP_SERVERS:-0}" != 1 ] \
   && [ "${RGW_OBJECTSTORE:-bluestore}" != memstore ]; then
  export FERRY_TEST_THROWAWAY_SERVERS=1
fi

if [ "$plain" = 1 ]; then
  log "integration tests"
  run_ctest integration -L integration -j "$(nproc)"
  check_rgw "the integration tests"
fi

# what the CLI scripts leave to look at (tests/cli/dashboard_test.sh: a screenshot)
export FERRY_TEST_ARTIFACTS=$FERRY_ROOT/build/test-artifacts
mkdir -p "$FERRY_TEST_ARTIFACTS"
log "CLI end-to-end scripts (artifacts: $FERRY_TEST_ARTIFACTS)"
phase_begin "CLI scripts"
run_cli_scripts
phase_end

if [ "$sanitizers" = 1 ]; then
  san_run
  check_rgw "the sanitizer suites"
fi

finish
