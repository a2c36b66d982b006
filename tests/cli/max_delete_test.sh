#!/usr/bin/env bash
# `ferry sync --delete --max-delete N|P%` (docs/design/guards.md) on the RGW pair: past the
# limit not one delete is made (every destination object is still there), the copies are, the
# run says why and exits 2; durable (the default, its run failed and `ferry jobs` says why) and
# in memory (--no-state, --dry-run); the percentage of the destination objects in scope; the
# config's [sync] max_delete and the flag over it; bad values in one line; a rerun with the
# same limit refuses again, one with a higher limit deletes.
source "$(dirname "$0")/testlib.bash"
export HOME=$WORK/home  # this test's own HOME (and FERRY_STATE_DIR, testlib's)
mkdir -p "$HOME"
A=$(new_bucket ra)
B=$(new_bucket rb)
mkdir -p "$WORK/src" "$WORK/dst"
for i in 0 1 2 3 4 5 6 7 8 9; do echo "object $i" > "$WORK/dst/k$i"; done
for i in 0 1 2 3; do echo "object $i" > "$WORK/src/k$i"; done
echo "new" > "$WORK/src/new1"
check "source: 5 objects" ferry cp "$WORK/src" "ra:$A" --no-progress
check "destination: 10 objects" ferry cp "$WORK/dst" "rb:$B" --no-progress
dst_count() { ferry ls "rb:$B" | wc -l; }
# k4..k9 are extras: 6 deletes planned

# Bad values: one line naming the flag or the key, exit 2, before anything is done.
for bad in -1 abc 150% 0.5; do
  check "--max-delete $bad refused" expect_error 2 "ferry: error: --max-delete: '$bad'" \
    ferry sync "ra:$A" "rb:$B" --delete --max-delete "$bad"
done
check "--max-delete without --delete refused" expect_error 2 "--max-delete needs --delete" \
  ferry sync "ra:$A" "rb:$B" --max-delete 5
check "  nothing deleted" [ "$(dst_count)" = 10 ]

# Durable (the default): the guard is the run's, before its deletes are unparked.
S1=$WORK/s1.db
rc=0; ferry sync "ra:$A" "rb:$B" --delete --max-delete 5 --state "$S1" --no-progress \
  2> "$WORK/err" || rc=$?
check "durable: past the count exits 2" [ "$rc" = 2 ]
check "  says why: planned, limit, way on" grep -q \
  "ferry: error: 6 deletes planned, over --max-delete 5: nothing was deleted; .*rerun with a higher --max-delete" \
  "$WORK/err"
check "  no failure claimed" bash -c "! grep -q 'because of the failures' '$WORK/err'"
check "  every destination object kept, the copy made" [ "$(dst_count)" = 11 ]
check "  ferry jobs says the run was stopped by --max-delete" bash -c \
  "'$FERRY_BIN' --config '$CONF' jobs list --state '$S1' | grep -q 'failed (stopped by --max-delete: 6 deletes planned'"
check "  in JSON too" bash -c \
  "'$FERRY_BIN' --config '$CONF' jobs list --state '$S1' --json | grep -q '\"deletes_refused\"'"
rc=0; ferry sync "ra:$A" "rb:$B" --delete --max-delete 5 --state "$S1" --no-progress \
  2> "$WORK/err" || rc=$?
check "durable rerun with the same limit refuses again" [ "$rc" = 2 ]
check "  nothing deleted" [ "$(dst_count)" = 11 ]

# The percentage: of the destination objects the run compares (11 now, 6 deletes: 54.5%).
rc=0; ferry sync "ra:$A" "rb:$B" --delete --max-delete 50% --state "$WORK/s2.db" --no-progress \
  2> "$WORK/err" || rc=$?
check "durable P%: past it exits 2" [ "$rc" = 2 ]
check "  says the share and the scope" grep -q \
  "6 deletes planned (54.5% of the 11 destination objects in scope), over --max-delete 50%" "$WORK/err"
check "  nothing deleted" [ "$(dst_count)" = 11 ]

# In memory: --no-state and --dry-run.
rc=0; ferry sync "ra:$A" "rb:$B" --delete --max-delete 50% --no-state --no-progress \
  2> "$WORK/err" || rc=$?
check "--no-state P%: exits 2" [ "$rc" = 2 ]
check "  says why" grep -q "ferry: error: 6 deletes planned (54.5% of the 11 destination objects in scope), over --max-delete 50%: nothing was deleted" "$WORK/err"
check "  nothing deleted" [ "$(dst_count)" = 11 ]
rc=0; ferry sync "ra:$A" "rb:$B" --delete --max-delete 5 --no-state --no-progress \
  2> "$WORK/err" || rc=$?
check "--no-state N: exits 2" [ "$rc" = 2 ]
check "  nothing deleted" [ "$(dst_count)" = 11 ]
rc=0; ferry sync "ra:$A" "rb:$B" --delete --max-delete 5 --dry-run --no-progress \
  2> "$WORK/err" || rc=$?
check "--dry-run: the limit would trip, exit 2" [ "$rc" = 2 ]
check "  says so" grep -q "over --max-delete 5: a run would delete nothing" "$WORK/err"
check "--dry-run within the limit: exit 0" ferry sync "ra:$A" "rb:$B" --delete --max-delete 6 \
  --dry-run --no-progress

# The config: [sync] max_delete, checked by `ferry config check`; the flag wins over it.
cat "$CONF" > "$WORK/limited.toml"
printf '\n[sync]\nmax_delete = "10%%"\n' >> "$WORK/limited.toml"
check "config check accepts [sync] max_delete" "$FERRY_BIN" --config "$WORK/limited.toml" config check
for bad in '-1' '"abc"' '"150%"' '0.5'; do
  cat "$CONF" > "$WORK/bad.toml"
  printf '\n[sync]\nmax_delete = %s\n' "$bad" >> "$WORK/bad.toml"
  check "config check refuses max_delete = $bad" expect_error 2 "\[sync\]: 'max_delete'" \
    "$FERRY_BIN" --config "$WORK/bad.toml" config check
done
rc=0; "$FERRY_BIN" --config "$WORK/limited.toml" sync "ra:$A" "rb:$B" --delete --no-state \
  --no-progress 2> "$WORK/err" || rc=$?
check "[sync] max_delete applies without the flag: exit 2" [ "$rc" = 2 ]
check "  names the limit by its key, not a flag never given" \
  grep -q "over \[sync\] max_delete 10%: nothing was deleted; .*raise \[sync\] max_delete" \
  "$WORK/err"
check "  nothing deleted" [ "$(dst_count)" = 11 ]

# A [[schedules]] sync of `ferry serve` is guarded by [sync] max_delete too.
serve_pid=
trap '[ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null || true; cleanup' EXIT
cat "$WORK/limited.toml" > "$WORK/serve.toml"
printf '\n[[schedules]]\nname = "ab"\nat = "every 2s"\ncommand = "sync"\nsource = "ra:%s"\ndestination = "rb:%s"\ndelete = true\n' \
  "$A" "$B" >> "$WORK/serve.toml"
"$FERRY_BIN" --config "$WORK/serve.toml" serve --state "$WORK/serve.db" \
  --listen "127.0.0.1:$(free_port)" > "$WORK/serve.out" 2> "$WORK/serve.err" &
serve_pid=$!
stopped_by_guard() {
  "$FERRY_BIN" --config "$CONF" jobs list --state "$WORK/serve.db" 2>/dev/null |
    grep -q 'failed (stopped by \[sync\] max_delete: 6 deletes planned (54.5% of the 11'
}
check "a scheduled sync --delete stops at [sync] max_delete" wait_for 60 stopped_by_guard
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=
check "  nothing deleted" [ "$(dst_count)" = 11 ]

# A rerun with a raised limit deletes (a new durable run: the stopped one has ended).
check "durable rerun with a higher limit deletes" "$FERRY_BIN" --config "$WORK/limited.toml" \
  sync "ra:$A" "rb:$B" --delete --max-delete 6 --state "$S1" --no-progress
check "  the 6 extras are gone, the rest kept" [ "$(dst_count)" = 5 ]
check "  exactly the source's keys" bash -c \
  "[ \"\$('$FERRY_BIN' --config '$CONF' ls 'rb:$B' | awk '{print \$NF}' | sort | tr '\n' ' ')\" = 'k0 k1 k2 k3 new1 ' ]"
finish
