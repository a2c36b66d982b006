#!/usr/bin/env bash
# A detached cache warm's run-end notification (issue 47 §2, docs/design/notify.md): `cache warm
# --detach --notify URL`, one `ferry worker --run N --until-done`, a loopback webhook. The
# worker's document is built from the run's jobs in the state store (jobs/run_end_hook.h,
# app::DurableRunEnd); the one cache-warm job is queued with objects 0 (what it covers is known
# only once it lists), so what it copied comes from its attempts' tallies (jobs::Outcome::tally).
# Before they existed the document said 0 copied, 0 bytes.
source "$(dirname "$0")/testlib.bash"
HOOK_PID=""
trap 'kill $HOOK_PID 2>/dev/null; cleanup' EXIT
PORT=$(free_port)
webhook_start "$PORT" "$WORK/docs"
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_until 10 "the webhook listens" listening "$PORT"
mkdir -p "$WORK/src/d"
for i in 1 2 3; do echo "object $i" > "$WORK/src/d/k$i"; done
ferry cache warm "$WORK/src" --prefix "" --cache "$WORK/cached" --state "$WORK/cache.db" \
  --ttl 1h --detach --json --notify "http://127.0.0.1:$PORT/runs" > "$WORK/queued.json" 2> /dev/null
run=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"])' "$WORK/queued.json")
check "one worker serves the detached warm's run to its end" \
  ferry worker --state "$WORK/cache.db" --run "$run" --until-done
check "the worker warmed the 3 objects" test -s "$WORK/cached/d/k3"
check "one document was delivered" test "$(wc -l < "$WORK/docs" 2>/dev/null)" = 1
check "its document: cache-warm, done, durable, the run, 3 copied, 27 bytes" test \
  "$(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print([d["command"], d["state"], d["durable"], d["run_id"], d["objects"]["copied"], d["bytes"]])' "$WORK/docs")" \
  = "['cache-warm', 'done', True, '$run', 3, 27]"
[ "$FAILS" = 0 ] || echo "received: $(cat "$WORK/docs" 2>/dev/null)"
finish
