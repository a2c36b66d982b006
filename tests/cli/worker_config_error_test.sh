#!/usr/bin/env bash
# A `ferry worker` that cannot open a run's location (a remote its config does not define, a
# key variable that is not set) gives the job back and stops with one error line, exit 2; the
# job is not counted as an attempt, so it never goes dead that way, and a worker that can open
# the run finishes it.
source "$(dirname "$0")/testlib.bash"
B=$(new_bucket rb)
mkdir -p "$WORK/src"
for i in 1 2 3; do echo "object $i" > "$WORK/src/f$i"; done
STATE=$WORK/state.db
check "enqueue a run" ferry cp "$WORK/src" "rb:$B" --state "$STATE" --detach --max-attempts 1
# Only remote ra: rb is unknown to this worker.
sed -n '/\[remotes.ra\]/,/^$/p' "$CONF" > "$WORK/only-ra.toml"
worker_stderr() { # config -> runs ferry worker, keeps its stderr in $WORK/werr, prints exit code
  local rc=0
  timeout 60 "$FERRY_BIN" --config "$1" worker --state "$STATE" 2>"$WORK/werr" || rc=$?
  echo "$rc"
}
check "unknown remote: exit 2" [ "$(worker_stderr "$WORK/only-ra.toml")" = 2 ]
check "  one error line naming the remote" \
  [ "$(grep -c 'ferry: error: cannot open the destination of run 1: unknown remote .rb.' "$WORK/werr")" = 1 ]
check "  no other error line" [ "$(grep -c 'error' "$WORK/werr")" = 1 ]
check "missing key variable: exit 2" [ "$(RB_KEY='' worker_stderr "$CONF")" = 2 ]
check "  one error line naming the variables" \
  [ "$(grep -c "ferry: error: .*environment variables RB_KEY and RB_SECRET must both be set" "$WORK/werr")" = 1 ]
check "no job went dead" bash -c "[ -z \"\$('$FERRY_BIN' jobs dlq --state '$STATE' 2>/dev/null)\" ]"
check "the run resumes and finishes" ferry cp "$WORK/src" "rb:$B" --state "$STATE" --max-attempts 1 --no-progress
check "  objects copied" bash -c "'$FERRY_BIN' --config '$CONF' ls 'rb:$B' | wc -l | grep -qx 3"
finish
