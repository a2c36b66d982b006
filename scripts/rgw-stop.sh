#!/usr/bin/env bash
# Stop the Ceph daemons started by scripts/rgw-start.sh and wipe its state dir.
# Safe by construction: it signals only the PIDs in $RGW_DIR/run/*.pid, and only when that
# process's command line names $RGW_DIR/ceph.conf, so it never touches another cluster (or an
# unrelated process that reused a PID). Stopping something that is not running is not an error.
# Environment: RGW_DIR (default /tmp/ferry-rgw); RGW_KEEP=1 keeps the state dir and logs
# (a later rgw-start.sh wipes it anyway); RGW_STOP_WAIT seconds before SIGKILL (default 5).
# No `set -e`: a stop must go on when one step fails.
set -uo pipefail
RGW_DIR=${RGW_DIR:-/tmp/ferry-rgw}
CONF=$RGW_DIR/ceph.conf
log() { printf '[rgw-stop %s] %s\n' "$(date +%T)" "$*" >&2; }

ours() { # pid -> true if the process was started with our conf
  # space-delimited, so /tmp/x/ceph.conf does not match /tmp/y/tmp/x/ceph.conf
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF -- " $CONF "
}

pids=()
# RGW first, then OSD, mgr, mon last
for f in "$RGW_DIR"/run/client.rgw.*.pid "$RGW_DIR"/run/osd.*.pid "$RGW_DIR"/run/mgr.*.pid "$RGW_DIR"/run/mon.*.pid; do
  [ -f "$f" ] || continue
  p=$(cat "$f" 2>/dev/null) || continue
  if [ -n "$p" ] && ours "$p"; then
    log "stopping $(basename "$f" .pid) (pid $p)"
    kill -TERM "$p" 2>/dev/null && pids+=("$p")
  fi
done
# wait up to ${RGW_STOP_WAIT:-5}s for all of them together, then SIGKILL the rest
# (radosgw and ceph-mon sometimes take >10 s to exit on SIGTERM; the state is thrown away anyway)
for _ in $(seq 1 $(( ${RGW_STOP_WAIT:-5} * 5 ))); do
  left=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
  [ $left = 0 ] && break; sleep 0.2
done
for p in "${pids[@]}"; do
  if kill -0 "$p" 2>/dev/null && ours "$p"; then log "pid $p still alive, SIGKILL"; kill -KILL "$p" 2>/dev/null; fi
done
for p in "${pids[@]}"; do for _ in $(seq 1 25); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done; done
if [ "${RGW_KEEP:-0}" != 1 ] && [ -d "$RGW_DIR" ]; then
  # only remove a dir rgw-start.sh made (it writes ceph.conf first) or an empty one
  if [ -f "$CONF" ] || [ -z "$(ls -A "$RGW_DIR")" ]; then
    rm -rf "$RGW_DIR"
    log "removed $RGW_DIR"
  else
    log "not removing $RGW_DIR: no ceph.conf in it, not a state dir of rgw-start.sh"
  fi
fi
exit 0
