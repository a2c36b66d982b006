#!/usr/bin/env bash
# `ferry cp/sync --max-transfer SIZE --max-duration DUR --cutoff-mode hard|soft|cautious`
# (docs/design/guards.md) on the RGW pair: a run cut by a limit copies no more than it may,
# deletes nothing, says why and what is left, exits 8 (--max-transfer) or 10 (--max-duration)
# as rclone does, and a rerun finishes it (the destination then equals the source); a durable
# run cut by --max-transfer or --max-duration stays unfinished and the rerun resumes it; bad
# values in one line. The config's [sync] keys stand for absent flags; --max-transfer off drops
# the key's limit. A durable run's soft --max-duration lets the copies in flight finish.
source "$(dirname "$0")/testlib.bash"
export HOME=$WORK/home  # this test's own HOME (and FERRY_STATE_DIR, testlib's)
mkdir -p "$HOME"
A=$(new_bucket ra)
B=$(new_bucket rb)
mkdir -p "$WORK/src"
for i in 0 1 2 3 4 5 6 7 8 9; do head -c 1048576 /dev/urandom > "$WORK/src/k$i"; done
check "source: 10 objects of 1 MiB" ferry cp "$WORK/src" "ra:$A" --no-progress
mkdir -p "$WORK/extra"; echo extra > "$WORK/extra/extra"
check "destination: one extra object" ferry cp "$WORK/extra" "rb:$B" --no-progress
dst_count() { ferry ls "rb:$B" | wc -l; }
listing() { ferry ls "$1" | awk '{print $NF, $(NF-1)}' | sort; }
same_as_source() { [ "$(listing "ra:$A")" = "$(listing "${1:-rb:$B}")" ]; }  # [DEST]

# Bad values: one line naming the flag, exit 2, nothing copied.
check "--max-transfer abc refused" expect_error 2 "ferry: error: --max-transfer: " \
  ferry sync "ra:$A" "rb:$B" --no-state --max-transfer abc
check "--max-transfer 0 refused" expect_error 2 "ferry: error: --max-transfer: '0'" \
  ferry sync "ra:$A" "rb:$B" --no-state --max-transfer 0
check "--max-duration xyz refused" expect_error 2 "ferry: error: --max-duration: " \
  ferry sync "ra:$A" "rb:$B" --no-state --max-duration xyz
check "--max-duration 0s refused" expect_error 2 "ferry: error: --max-duration: '0s'" \
  ferry sync "ra:$A" "rb:$B" --no-state --max-duration 0s
check "--cutoff-mode fast refused" expect_error 2 "ferry: error: --cutoff-mode: 'fast'" \
  ferry sync "ra:$A" "rb:$B" --no-state --max-transfer 1M --cutoff-mode fast
check "--cutoff-mode without a limit refused" expect_error 2 \
  "--cutoff-mode needs --max-transfer or --max-duration" \
  ferry sync "ra:$A" "rb:$B" --no-state --cutoff-mode soft
check "--max-transfer with --detach refused" expect_error 2 \
  "--max-transfer stops this command's worker: it does not go with --detach" \
  ferry sync "ra:$A" "rb:$B" --max-transfer 1M --detach
check "--max-duration with --detach refused" expect_error 2 \
  "--max-duration stops this command's worker: it does not go with --detach" \
  ferry sync "ra:$A" "rb:$B" --max-duration 1m --cutoff-mode soft --detach
check "  nothing copied" [ "$(dst_count)" = 1 ]

# The config's [sync] max_transfer, max_duration and cutoff_mode: ferry sync's defaults, checked
# by `ferry config check`; a bad value is one line naming the file, [sync] and the key, exit 2;
# a durable run refuses a key as it refuses its flag, naming the key.
sync_conf() { # sync_conf NAME LINE...: the test's config with [sync] LINE..., its path printed
  local f=$WORK/$1.toml; shift
  { cat "$CONF"; printf '\n[sync]\n'; printf '%s\n' "$@"; } > "$f"
  echo "$f"
}
KEYS=$(sync_conf keys 'max_transfer = "3584KiB"' 'cutoff_mode = "cautious"')
check "config check accepts [sync] max_transfer and cutoff_mode" \
  "$FERRY_BIN" --config "$KEYS" config check
for bad in 'max_transfer = "abc"' 'max_transfer = "0"' 'max_duration = "0s"' \
  'max_duration = "6h"|cutoff_mode = "gentle"' 'cutoff_mode = "soft"'; do
  IFS='|' read -r -a lines <<< "$bad"
  f=$(sync_conf bad "${lines[@]}")
  key=${lines[-1]%% *}
  check "config check refuses $bad in one line" expect_error 2 "bad.toml: \[sync\]: '$key'" \
    "$FERRY_BIN" --config "$f" config check
  check "  and so does sync" expect_error 2 "bad.toml: \[sync\]: '$key'" \
    "$FERRY_BIN" --config "$f" sync "ra:$A" "rb:$B" --no-state
done
# In memory the keys apply without their flags: 3 objects fit in 3.5 MiB (cautious), exit 8.
E=$(new_bucket rb)
rc=0; "$FERRY_BIN" --config "$KEYS" sync "ra:$A" "rb:$E" --no-state --no-progress \
  > "$WORK/out" 2> "$WORK/err" || rc=$?
check "[sync] max_transfer and cutoff_mode cut an in-memory sync: exit 8" [ "$rc" = 8 ]
check "  stopped at 3.5 MiB, cautious" grep -q \
  "stopped by --max-transfer 3.5 MiB (--cutoff-mode cautious): 7 objects" "$WORK/err"
check "  3 copied" [ "$(ferry ls "rb:$E" | wc -l)" = 3 ]
check "--max-transfer off wins over the key: the sync finishes" \
  "$FERRY_BIN" --config "$KEYS" sync "ra:$A" "rb:$E" --no-state --no-progress --max-transfer off
check "  all 10 there" [ "$(ferry ls "rb:$E" | wc -l)" = 10 ]

# --max-transfer, cautious: 3 objects fit in 3.5 MiB, the 4th would pass it.
rc=0; ferry sync "ra:$A" "rb:$B" --delete --no-state --no-progress --max-transfer 3584KiB \
  --cutoff-mode cautious > "$WORK/out" 2> "$WORK/err" || rc=$?
check "--max-transfer cut: exit 8" [ "$rc" = 8 ]
check "  says why and what is left" grep -q \
  "ferry: error: stopped by --max-transfer 3.5 MiB (--cutoff-mode cautious): 7 objects (7.0 MiB) not copied; nothing was deleted; run the same command again to copy the rest" \
  "$WORK/err"
check "  3 copied, the extra kept" [ "$(dst_count)" = 4 ]
check "  the extra still there" bash -c "'$FERRY_BIN' --config '$CONF' ls 'rb:$B' | grep -q extra"
check "rerun without a limit finishes: exit 0" ferry sync "ra:$A" "rb:$B" --delete --no-state \
  --no-progress
check "  the destination equals the source" same_as_source

# --max-transfer on a durable run (its command's worker stops at it), cautious: 3 objects fit in
# 3.5 MiB; the run stays unfinished, nothing deleted; the rerun without a limit resumes it.
F=$(new_bucket rb)
check "  an extra object at the durable run's destination" ferry cp "$WORK/extra" "rb:$F" --no-progress
rc=0; ferry sync "ra:$A" "rb:$F" --delete --no-progress --max-transfer 3584KiB \
  --cutoff-mode cautious --state "$WORK/t.db" > "$WORK/out" 2> "$WORK/err" || rc=$?
check "durable --max-transfer cut: exit 8" [ "$rc" = 8 ]
check "  says why and how to finish" grep -q \
  "ferry: error: stopped by --max-transfer 3.5 MiB (--cutoff-mode cautious): the run is unfinished and nothing was deleted; run the same command again (or ferry worker) to finish it" \
  "$WORK/err"
check "  3 copied, the extra kept" [ "$(ferry ls "rb:$F" | wc -l)" = 4 ]
check "  ferry jobs: the run is unfinished, no job dead" bash -c \
  "'$FERRY_BIN' --config '$CONF' jobs list --state '$WORK/t.db' | grep -q 'running'"
rc=0; ferry sync "ra:$A" "rb:$F" --delete --no-progress --state "$WORK/t.db" \
  > "$WORK/out" 2> "$WORK/err" || rc=$?
check "rerun without a limit resumes the run and finishes: exit 0" [ "$rc" = 0 ]
check "  resumed, not started afresh" grep -q "resuming run" "$WORK/err"
check "  the destination equals the source, the extra deleted" \
  same_as_source "rb:$F"
# [sync] max_transfer applies to a durable sync as its flag does.
G=$(new_bucket rb)
rc=0; "$FERRY_BIN" --config "$KEYS" sync "ra:$A" "rb:$G" --no-progress --state "$WORK/k.db" \
  > "$WORK/out" 2> "$WORK/err" || rc=$?
check "[sync] max_transfer cuts a durable sync: exit 8" [ "$rc" = 8 ]
check "  3 copied" [ "$(ferry ls "rb:$G" | wc -l)" = 3 ]

# --max-duration on a durable run, made slow by --bwlimit (10 MiB at 1 MiB/s: about 10 s).
C=$(new_bucket rb)
start=$(date +%s)
rc=0; ferry --bwlimit 1M cp "ra:$A" "rb:$C" --no-progress --max-duration 3s --state "$WORK/d.db" --concurrency 2 \
  > "$WORK/out" 2> "$WORK/err" || rc=$?
took=$(( $(date +%s) - start ))
check "durable --max-duration cut: exit 10" [ "$rc" = 10 ]
check "  stopped near the deadline (${took}s)" [ "$took" -lt 9 ]
check "  says why and how to finish" grep -q \
  "ferry: error: stopped by --max-duration 3s (--cutoff-mode hard): the run is unfinished and nothing was deleted; run the same command again (or ferry worker) to finish it" \
  "$WORK/err"
copied=$(ferry ls "rb:$C" | wc -l)
check "  not everything copied ($copied)" [ "$copied" -lt 10 ]
rc=0; ferry cp "ra:$A" "rb:$C" --no-progress --state "$WORK/d.db" --concurrency 2 \
  > "$WORK/out" 2> "$WORK/err" || rc=$?
check "rerun resumes the run and finishes: exit 0" [ "$rc" = 0 ]
check "  resumed, not started afresh" grep -q "resuming run" "$WORK/err"
check "  the destination equals the source" \
  same_as_source "rb:$C"

# --max-duration on a durable run, soft: the command's worker starts no copy and claims no job
# past the deadline, the copies in flight finish; the rerun resumes the run.
H=$(new_bucket rb)
rc=0; ferry --bwlimit 1M cp "ra:$A" "rb:$H" --no-progress --max-duration 3s --cutoff-mode soft \
  --state "$WORK/h.db" --concurrency 2 > "$WORK/out" 2> "$WORK/err" || rc=$?
check "durable --max-duration soft cut: exit 10" [ "$rc" = 10 ]
check "  says why and how to finish" grep -q \
  "ferry: error: stopped by --max-duration 3s (--cutoff-mode soft): the run is unfinished and nothing was deleted" \
  "$WORK/err"
check "  the copies in flight finished: none failed" grep -q ' 0 failed' "$WORK/err"
copied=$(ferry ls "rb:$H" | wc -l)
check "  not everything copied ($copied), each copied object whole" \
  bash -c "[ $copied -lt 10 ] && [ $copied -ge 1 ]"
check "  ferry jobs: the run is still running" bash -c "'$FERRY_BIN' --config '$CONF' jobs list --state '$WORK/h.db' | grep -q running"
rc=0; ferry cp "ra:$A" "rb:$H" --no-progress --state "$WORK/h.db" --cutoff-mode soft \
  --max-duration 1h > "$WORK/out" 2> "$WORK/err" || rc=$?
check "rerun resumes the run and finishes: exit 0" [ "$rc" = 0 ]
check "  the destination equals the source" same_as_source "rb:$H"

# --max-duration in memory, soft: the copies in flight finish, no new one starts.
D=$(new_bucket rb)
rc=0; ferry --bwlimit 1M sync "ra:$A" "rb:$D" --no-state --no-progress --max-duration 2s --concurrency 2 \
  --cutoff-mode soft > "$WORK/out" 2> "$WORK/err" || rc=$?
check "--no-state --max-duration soft: exit 10" [ "$rc" = 10 ]
check "  says why" grep -q "ferry: error: stopped by --max-duration 2s (--cutoff-mode soft): " "$WORK/err"
copied=$(ferry ls "rb:$D" | wc -l)
check "  not everything copied ($copied)" [ "$copied" -lt 10 ]
check "  no failure counted (the copies in flight finished)" grep -q ' 0 failed' "$WORK/err"
check "rerun finishes" ferry sync "ra:$A" "rb:$D" --no-state --no-progress
finish
