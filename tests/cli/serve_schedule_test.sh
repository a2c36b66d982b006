#!/usr/bin/env bash
# [[schedules]] in `ferry serve` (docs/design/serve.md, "Schedules"): two serves on one
# PostgreSQL state store with a schedule that syncs ra:A -> rb:B every 5 s. Objects written to A
# between occurrences arrive at B; each occurrence is claimed by one serve only and its run
# recorded (no run of the pair that no occurrence names); both serves take part; one is
# SIGKILLed and the other carries on; a SIGHUP keeps the schedule going without a second start
# of an occurrence; bad schedules are refused in one line, exit 2. [[notify]] is told of the
# scheduled runs' ends (a cache warm's with what it copied).
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_PG_URL:?FERRY_TEST_PG_URL not set: run through scripts/test-all.sh}"
pids=()
HOOK_PID=""
SCHEMA=ferry_sched$$
trap 'kill $HOOK_PID 2>/dev/null; [ ${#pids[@]} = 0 ] || kill ${pids[*]} 2>/dev/null || true; psql "$FERRY_TEST_PG_URL" -q -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1; cleanup' EXIT
psql "$FERRY_TEST_PG_URL" -q -c "CREATE SCHEMA $SCHEMA" >/dev/null
STATE="$FERRY_TEST_PG_URL?options=-csearch_path%3D$SCHEMA"
sql() { psql "$STATE" -qtA -c "$1"; }
A=$(new_bucket ra)
B=$(new_bucket rb)
W=$(new_bucket ra)      # a cache warm's source
C=$(new_bucket rb)      # and its cache
BASE=$(cat "$CONF")

# Bad schedules: one line, exit 2, before anything is served.
bad() { # TOML of one [[schedules]] entry, the expected pattern
  printf '%s\n[[schedules]]\n%s\n' "$BASE" "$1" > "$CONF"
  expect_error 2 "$2" ferry serve --state "$WORK/bad.db" --listen "127.0.0.1:$(free_port)"
}
ok_keys='name = "s"
command = "sync"
source = "ra:'$A'"
destination = "rb:'$B'"'
check "a bad 'at' is refused" bad "$ok_keys
at = \"every 5x\"" "at \"every 5x\""
check "an unknown day is refused" bad "$ok_keys
at = \"Mon,Fry 06:00\"" 'unknown day "Fry"'
check "an unknown key is refused" bad "$ok_keys
at = \"hourly\"
prefix = \"x/\"" "unknown key 'prefix'"
check "a cache warm without prefixes is refused" bad 'name = "w"
at = "hourly"
command = "cache-warm"
source = "ra:'$W'"
cache = "rb:'$C'"
ttl = "1h"' "'prefixes' is missing"
check "a backup without its source is refused" bad 'name = "b"
at = "hourly"
command = "backup"' "\[\[schedules\]\] 'b': 'source' is missing"
check "an unknown remote is refused" bad 'name = "s"
at = "hourly"
command = "sync"
source = "nowhere:x"
destination = "rb:'$B'"' "\[\[schedules\]\] 's'"
check "a missing destination is refused" bad 'name = "s"
at = "hourly"
command = "sync"
source = "ra:'$A'"' "'destination' is missing"
printf '%s\n[[schedules]]\nname = "s"\nat = "hourly"\ncommand = "sync"\nsource = "ra:x"\ndestination = "rb:y"\n[[schedules]]\nname = "s"\nat = "daily 02:00"\ncommand = "sync"\nsource = "ra:x"\ndestination = "rb:y"\n' "$BASE" > "$CONF"
check "a name taken twice is refused" expect_error 2 "the name is taken twice" \
  ferry serve --state "$WORK/bad.db" --listen "127.0.0.1:$(free_port)"

# [[notify]]: every scheduled run's end is told to a webhook (a scheduled cache warm's too,
# with what it copied), which keeps each document it is sent
HOOK_PORT=$(free_port)
webhook_start "$HOOK_PORT" "$WORK/docs"
cat > "$CONF" <<EOT
$BASE
[[notify]]
kind = "webhook"
url = "http://127.0.0.1:$HOOK_PORT/runs"
[[schedules]]
name = "ab"
at = "every 5s"
command = "sync"
source = "ra:$A"
destination = "rb:$B"
[[schedules]]
name = "warm"
at = "every 5s"
command = "cache-warm"
source = "ra:$W"
cache = "rb:$C"
prefixes = ["hot/"]
ttl = "1h"
EOT
PORTS=()
start_serve() { # N: serve number N on its own port
  local port
  port=$(free_port)
  PORTS[$1]=$port
  # --max-rps: a run of 300 objects takes seconds, so that the test sees it at work
  "$FERRY_BIN" --config "$CONF" serve --state "$STATE" --listen "127.0.0.1:$port" --lease-ttl 5 \
    --max-rps 60 > "$WORK/serve$1.out" 2> "$WORK/serve$1.err" &
  pids[$1]=$!
  wait_for 30 answers "http://127.0.0.1:$port/healthz"
}
metric() { # N NAME OUTCOME: the value of ferry_schedule_runs_total{schedule="ab",outcome=...} of serve N
  curl -sf "http://127.0.0.1:${PORTS[$1]}/metrics" |
    awk -v o="$3" -v n="$2" '$1 ~ "^"n && $1 ~ "schedule=\"ab\"" && $1 ~ "outcome=\""o"\"" { v += $2 } END { print v + 0 }'
}
check "serve 1 starts" start_serve 1
check "serve 2 starts on the same store" start_serve 2
mkdir -p "$WORK/data"
count_b() { s3_count b "$B"; }
at_b() { [ "$(count_b)" = "$1" ]; }
put() { # FROM TO: objects kFROM..kTO written to A
  for i in $(seq "$1" "$2"); do head -c $((RANDOM % 4000 + 1)) /dev/urandom > "$WORK/data/k$i"; done
  ferry cp "$WORK/data" "ra:$A" --no-progress >/dev/null 2>&1
}
put 1 5
check "the first objects arrive at B" wait_for 30 at_b 5
# the cache warm: what is under hot/ in W is copied into the cache C, nothing else
mkdir -p "$WORK/w/hot" "$WORK/w/cold"
for i in 1 2 3; do echo "hot $i" > "$WORK/w/hot/h$i"; echo "cold $i" > "$WORK/w/cold/c$i"; done
ferry cp "$WORK/w" "ra:$W" --no-progress >/dev/null 2>&1
count_c() { s3_count b "$C"; }
hot_cached() { [ "$(count_c)" = 3 ] && s3_has b "$C" hot/h2; }
check "the scheduled cache warm fills the cache with hot/ only" wait_for 40 hot_cached
warm_ok() { [ "$(sql "SELECT count(*) FROM schedule_runs WHERE schedule = 'warm' AND outcome = 'succeeded'")" -ge 1 ]; }
check "cache warm occurrences succeed" wait_for 20 warm_ok
# the occurrence that filled the cache told the webhook: cache-warm, durable, 3 copied, 18 bytes
warm_told() {
  python3 - "$WORK/docs" <<'PY'
import json, sys
try:
    docs = [json.loads(l) for l in open(sys.argv[1])]
except FileNotFoundError:
    sys.exit(1)
sys.exit(0 if any(d["command"] == "cache-warm" and d["durable"] and d["state"] == "done"
                  and d["objects"]["copied"] == 3 and d["bytes"] == 18 for d in docs) else 1)
PY
}
check "the scheduled warm that filled the cache told [[notify]]: 3 copied, 18 bytes" \
  wait_for 60 warm_told  # serve delivers its outbox every 30 s
put 6 10
check "objects written between occurrences arrive" wait_for 30 at_b 10
both_took_part() {
  [ "$(sql "SELECT count(DISTINCT owner) FROM schedule_runs WHERE schedule = 'ab'")" = 2 ]
}
check "both serves started occurrences" wait_for 40 both_took_part
# serve 1 is SIGKILLed once a run it started is at work on 300 objects: serve 2's worker on that
# run takes its jobs over (the dead process's leases are released: same machine) and records
# the occurrence's outcome
pid1=${pids[1]}
# serve 2 paused (SIGSTOP) meanwhile: the next occurrences are serve 1's, whoever would have won
kill -STOP "${pids[2]}"
put 11 310 &
putter=$!
serve1_running() {
  killed_due=$(sql "SELECT s.due FROM schedule_runs s JOIN runs r ON r.id = s.run WHERE s.schedule = 'ab' AND s.outcome = 'started' AND s.owner LIKE '%:$pid1:%' AND r.state = 'running' LIMIT 1")
  [ -n "$killed_due" ]
}
check "serve 1 starts an occurrence while objects are written" wait_for 60 serve1_running
kill -9 "$pid1"; wait "$pid1" 2>/dev/null || true
kill -CONT "${pids[2]}"
killed_run=$(sql "SELECT run FROM schedule_runs WHERE schedule = 'ab' AND due = $killed_due")
echo "  serve 1 killed with run $killed_run $(sql "SELECT state FROM runs WHERE id = $killed_run")"
wait "$putter"
check "serve 2 carries on after serve 1 is SIGKILLed: 310 objects at B" wait_for 120 at_b 310
killed_ended() {
  [ "$(sql "SELECT outcome FROM schedule_runs WHERE schedule = 'ab' AND due = $killed_due")" = succeeded ]
}
check "the killed serve's occurrence ends succeeded" wait_for 60 killed_ended
before=$(sql "SELECT count(*) FROM schedule_runs WHERE schedule = 'ab'")
kill -HUP "${pids[2]}"
reloaded_once() { curl -sf "http://127.0.0.1:${PORTS[2]}/metrics" | grep -q '^ferry_serve_reloads_total{result="applied"} 1$'; }
wait_until 30 "serve 2 applies the reload a SIGHUP asks" reloaded_once
check "serve 2 still serves after a SIGHUP" curl -sf -o /dev/null "http://127.0.0.1:${PORTS[2]}/healthz"
put 311 313
check "objects written after the reload arrive" wait_for 40 at_b 313
more_after_reload() { [ "$(sql "SELECT count(*) FROM schedule_runs WHERE schedule = 'ab'")" -gt $((before + 1)) ]; }
check "occurrences go on after the reload" wait_for 20 more_after_reload
# Every occurrence is one row (the primary key), each on a multiple of 5 s; every run of the
# pair is named by an occurrence (no occurrence queued a run that was not recorded, none twice).
rows=$(sql "SELECT count(*) FROM schedule_runs WHERE schedule = 'ab'")
odd=$(sql "SELECT count(*) FROM schedule_runs WHERE schedule = 'ab' AND due % 5000 <> 0")
rows_ok() { [ "$odd" = 0 ] && [ "$rows" -ge 4 ]; }
check "$rows occurrences, all on multiples of 5 s" rows_ok
runs=$(sql "SELECT count(*) FROM runs WHERE source = 'ra:$A'")
named=$(sql "SELECT count(DISTINCT run) FROM schedule_runs WHERE schedule = 'ab' AND run > 0")
check "every run of the pair ($runs) is an occurrence's ($named)" [ "$runs" = "$named" ]
succeeded=$(sql "SELECT count(*) FROM schedule_runs WHERE schedule = 'ab' AND outcome = 'succeeded'")
check "occurrences succeeded ($succeeded)" [ "$succeeded" -ge 3 ]
failed=$(sql "SELECT count(*) FROM schedule_runs WHERE schedule = 'ab' AND outcome = 'failed'")
check "none failed ($failed)" [ "$failed" = 0 ]
pid2=${pids[2]}
# serve 2's counter of started occurrences is the number of rows it claimed (two reads apart: a
# tick may fall between them, so they are compared until they agree)
agree() {
  local m r
  m=$(metric 2 ferry_schedule_runs_total started)
  r=$(sql "SELECT count(*) FROM schedule_runs WHERE schedule = 'ab' AND owner LIKE '%:$pid2:%' AND outcome <> 'missed'")
  [ "$m" = "$r" ] && [ "$m" -gt 0 ]
}
check "serve 2's started counter is the occurrences it claimed" wait_for 10 agree
check "serve 2 shows the next occurrence" \
  bash -c "curl -sf http://127.0.0.1:${PORTS[2]}/metrics | grep -q '^ferry_schedule_next_run_timestamp_seconds{schedule=\"ab\"}'"
check "serve 2 shows the last success" \
  bash -c "curl -sf http://127.0.0.1:${PORTS[2]}/metrics | grep '^ferry_schedule_last_success_timestamp_seconds{schedule=\"ab\"}' | grep -vq ' 0$'"
check "/api/status lists the schedule" \
  bash -c "curl -sf http://127.0.0.1:${PORTS[2]}/api/status | python3 -c 'import json,sys; d=json.load(sys.stdin); s=d[\"schedules\"][0]; assert s[\"name\"]==\"ab\" and s[\"recent\"], d'"
same=0
aws_side b s3 sync "s3://$B" "$WORK/at-b" --quiet  # B read back in one AWS CLI call, not 26
for i in $(seq 1 12) $(seq 300 313); do
  if cmp -s "$WORK/data/k$i" "$WORK/at-b/k$i"; then same=$((same + 1)); fi
done
check "the bytes of 26 objects at B are the source's ($same/26)" [ "$same" = 26 ]
# A SIGHUP with another `at`: the schedule starts over from the reload (its next occurrence an
# hour away at most): no occurrence starts meanwhile
sed -i 's/^at = "every 5s"$/at = "every 1h"/' "$CONF"
reloaded() { curl -sf "http://127.0.0.1:${PORTS[2]}/metrics" | grep -q '^ferry_serve_reloads_total{result="applied"} 2'; }
kill -HUP "${pids[2]}"
check "the changed schedule is applied" wait_for 10 reloaded
# Kept: nothing happening for a while is what is tested. 1 s lets an occurrence claimed by the
# loop turn that ran as the reload came in be recorded; then 6 s, more than a period of the old
# 'every 5s', in which it would have fired at least once had the reload not replaced it.
sleep 1
settled=$(sql "SELECT count(*) FROM schedule_runs WHERE schedule = 'ab'")
sleep 6
check "no occurrence of 'every 5s' after the change" \
  [ "$(sql "SELECT count(*) FROM schedule_runs WHERE schedule = 'ab'")" = "$settled" ]
next_in_an_hour() {
  curl -sf "http://127.0.0.1:${PORTS[2]}/metrics" |
    awk -v now="$(date +%s)" '/^ferry_schedule_next_run_timestamp_seconds\{schedule="ab"\}/ { d = $2 - now } END { exit !(d > 10 && d <= 3600 && int($2) % 3600 == 0) }'
}
check "its next occurrence is on the hour" next_in_an_hour
kill -TERM "${pids[2]}"; rc=0; wait "${pids[2]}" || rc=$?
check "SIGTERM ends serve 2 with exit 0" [ "$rc" = 0 ]
pids=()
echo "  occurrences: $rows, runs: $runs, succeeded: $succeeded"
finish
