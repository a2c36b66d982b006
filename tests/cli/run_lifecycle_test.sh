#!/usr/bin/env bash
# Run lifecycle: an unfinished run resumes only as the command that started it (else one line,
# exit 2, and --restart discards it); `ferry jobs purge --dead` never lets a failed run delete;
# a delete job checks each key against the source right before deleting it; a run that ended
# failed does not block the next run of the same command; a new run waits for the leases of
# the jobs --restart discarded (even after an interrupted --restart); `jobs show` of an unknown
# run and bad [transfer] values in the config file are one error line.
source "$(dirname "$0")/testlib.bash"
aws_a() {
  AWS_ACCESS_KEY_ID=$RA_KEY AWS_SECRET_ACCESS_KEY=$RA_SECRET AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION:-region-a} \
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" "$AWS_CLI" --endpoint-url "$FERRY_TEST_S3_ENDPOINT" "$@"
}
# deny_puts BUCKET PREFIX: the bucket refuses PutObject under PREFIX
deny_puts() {
  cat > "$WORK/deny.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject",
 "Resource":"arn:aws:s3:::$1/$2*"}]}
JSON
  aws_a s3api put-bucket-policy --bucket "$1" --policy "file://$WORK/deny.json"
}
keys() { ferry ls "$1" | awk '{print $NF}' | sort | tr '\n' ' '; }
field() {
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$WORK/out" "$1" \
    2>/dev/null || echo "(no $1 in the JSON summary)"
}
# all COND...: every COND (a shell test, as text) holds
all() { local c; for c in "$@"; do eval "$c" || return 1; done; }
# run_json ARGS...: ferry ARGS --json, stdout in $WORK/out, stderr in $WORK/err; sets rc
run_json() { rc=0; ferry "$@" --no-progress --json > "$WORK/out" 2> "$WORK/err" || rc=$?; }
fill() { # fill DIR KEY... : one small file per key
  local dir=$1; shift
  for k in "$@"; do mkdir -p "$(dirname "$dir/$k")"; echo "$k" > "$dir/$k"; done
}

echo "# 1. a run resumes only as the same command; --restart discards it"
D1=$(new_bucket ra)
S1=$WORK/s1.db
fill "$WORK/src1" o1 o2 o3
fill "$WORK/extra1" o1 o2 o3 extra
ferry cp "$WORK/extra1" "ra:$D1" --no-progress >/dev/null 2>&1
check "sync --delete --detach leaves an unfinished run" \
  ferry sync "$WORK/src1" "ra:$D1" --delete --state "$S1" --detach 2>/dev/null
check "cp refuses to resume it: one line, exit 2, naming it and both ways out" expect_error 2 \
  "^ferry: error: unfinished run 1 (ferry sync $WORK/src1 ra:$D1 --delete --state $S1) differs from this command in the command (cp, not sync), --delete; rerun its command to finish it, or add --restart to discard it and start a new run$" \
  ferry cp "$WORK/src1" "ra:$D1" --state "$S1"
check "sync with other filters is refused too" expect_error 2 \
  "unfinished run 1 .* differs from this command in --include; rerun its command" \
  ferry sync "$WORK/src1" "ra:$D1" --delete --include 'o*' --state "$S1"
check "  and without --delete" expect_error 2 "differs from this command in --delete;" \
  ferry sync "$WORK/src1" "ra:$D1" --state "$S1"
check "  nothing was deleted" [ "$(keys "ra:$D1")" = "extra o1 o2 o3 " ]
run_json cp "$WORK/src1" "ra:$D1" --state "$S1" --restart
check "cp --restart discards the run and copies" [ "$rc" = 0 ]
check "  says so" grep -q "discarded unfinished run 1 (ferry sync .* --delete .*): 1 jobs removed" "$WORK/err"
check "  a new run, not resumed" all \
  '[ "$(field resumed)" = False ]' '[ "$(field run)" = 2 ]'
ferry jobs list --state "$S1" --json > "$WORK/runs"
check "  the discarded run is failed, the new one done" \
  python3 -c "import json; r={j['run']: j['state'] for j in map(json.loads, open('$WORK/runs'))}; assert r == {1: 'failed', 2: 'done'}, r"
timeout -s INT 5 "$FERRY_BIN" --config "$CONF" worker --state "$S1" >/dev/null 2>&1 || true
check "  no work of the discarded sync --delete ran: extra is still there" \
  [ "$(keys "ra:$D1")" = "extra o1 o2 o3 " ]

echo "# 2. purge --dead never lets a failed run delete"
# The source renamed old-name to new/name; the destination refuses writes under new/.
D2=$(new_bucket ra)
S2=$WORK/s2.db
fill "$WORK/src2" keep new/name
fill "$WORK/dst2" keep old-name
ferry cp "$WORK/dst2" "ra:$D2" --no-progress >/dev/null 2>&1
check "deny writes under new/" deny_puts "$D2" new/
run_json sync "$WORK/src2" "ra:$D2" --delete --state "$S2" --max-attempts 1
check "sync fails: new/name cannot be written" all \
  '[ "$rc" = 1 ]' '[ "$(field jobs_dead)" -ge 1 ]'
check "  old-name kept (deletes parked)" [ "$(keys "ra:$D2")" = "keep old-name " ]
check "purge --dead" ferry jobs purge --dead --state "$S2" 2>/dev/null
run_json sync "$WORK/src2" "ra:$D2" --delete --state "$S2" --max-attempts 1
check "the same sync again is a new run, which fails again" all \
  '[ "$rc" = 1 ]' '[ "$(field resumed)" = False ]'
check "  old-name is still there" [ "$(keys "ra:$D2")" = "keep old-name " ]
check "purge --dead again" ferry jobs purge --dead --state "$S2" 2>/dev/null
timeout -s INT 5 "$FERRY_BIN" --config "$CONF" worker --state "$S2" >/dev/null 2>&1 || true
check "  a worker afterwards deletes nothing" [ "$(keys "ra:$D2")" = "keep old-name " ]
check "allow writes again" aws_a s3api delete-bucket-policy --bucket "$D2"
run_json sync "$WORK/src2" "ra:$D2" --delete --state "$S2" --max-attempts 1
check "a fresh sync completes the rename" all \
  '[ "$rc" = 0 ]' '[ "$(keys "ra:$D2")" = "keep new/name " ]'

echo "# 3. a delete job checks the source again right before deleting"
D3=$(new_bucket ra)
S3=$WORK/s3.db
fill "$WORK/src3" a deny/b
fill "$WORK/dst3" a x
ferry cp "$WORK/dst3" "ra:$D3" --no-progress >/dev/null 2>&1
check "deny writes under deny/" deny_puts "$D3" deny/
run_json sync "$WORK/src3" "ra:$D3" --delete --state "$S3" --max-attempts 1
check "sync fails, the delete of x stays parked" all \
  '[ "$rc" = 1 ]' '[ "$(keys "ra:$D3")" = "a x " ]'
fill "$WORK/src3" x  # the source has x again
check "fix the cause" aws_a s3api delete-bucket-policy --bucket "$D3"
check "redrive" ferry jobs redrive 1 --state "$S3" 2>/dev/null
run_json sync "$WORK/src3" "ra:$D3" --delete --state "$S3" --max-attempts 1
check "the same sync resumes the redriven run and completes it" all \
  '[ "$rc" = 0 ]' '[ "$(field resumed)" = True ]'
check "  x, back on the source, is not deleted" [ "$(keys "ra:$D3")" = "a deny/b x " ]
check "  it is counted as kept" all \
  '[ "$(field deletes_kept)" = 1 ]' '[ "$(field objects_deleted)" = 0 ]'

echo "# 4. a failed run does not block the next run of the same command"
A4=$(new_bucket ra)
LONG=long/$(printf 'n%.0s' $(seq 1 300))
fill "$WORK/src4" f1 "$LONG" 2>/dev/null || true
printf 'x' > "$WORK/f1"
aws_a s3api put-object --bucket "$A4" --key "$LONG" --body "$WORK/f1" >/dev/null
aws_a s3api put-object --bucket "$A4" --key f1 --body "$WORK/f1" >/dev/null
for state in "--state=$WORK/s4.db" ""; do
  export FERRY_STATE_DIR=$WORK/auto
  rm -rf "$WORK/dst4"
  aws_a s3api delete-object --bucket "$A4" --key f2 >/dev/null
  run_json sync "ra:$A4" "$WORK/dst4" $state
  check "sync ${state:-(automatic state)} fails on a key too long for a file name" all \
    '[ "$rc" = 1 ]' '[ -f "$WORK/dst4/f1" ]'
  aws_a s3api put-object --bucket "$A4" --key f2 --body "$WORK/f1" >/dev/null
  run_json sync "ra:$A4" "$WORK/dst4" $state
  check "  the same sync again lists afresh (a new run) and copies the new f2" all \
    '[ "$rc" = 1 ]' '[ "$(field resumed)" = False ]' '[ "$(field objects_listed)" = 3 ]' '[ -f "$WORK/dst4/f2" ]'
  rc=0; ferry sync "ra:$A4" "$WORK/dst4" $state --no-progress 2> "$WORK/err" || rc=$?
  check "  its summary says how to go on" all '[ "$rc" = 1 ]' \
    'grep -q "rerun the command for a new run, or fix the cause and \`ferry jobs redrive" "$WORK/err"'
done

echo "# 5. a new run waits for the leases of the jobs --restart discarded"
# A worker of another machine holds the scan job of an unfinished run (its lease, 8 s from now,
# written into the state file as such a worker would): --restart removes the job, but that worker
# would go on with it until its lease ends, so the new run starts only then. A --restart
# interrupted while it waits leaves the run abandoned: the plain run after it waits too.
D5=$(new_bucket ra)
S5=$WORK/s5.db
fill "$WORK/src5" a b c
ferry sync "$WORK/src5" "ra:$D5" --delete --state "$S5" --detach 2>/dev/null
lease_away() { # lease_away MS: the run's unfinished jobs leased by another host for MS ms more
  python3 - "$S5" "$1" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
until = int(time.time() * 1000) + int(sys.argv[2])
n = db.execute("UPDATE jobs SET state = 'leased', lease_owner = 'elsewhere:1:-:00000000',"
               " lease_expires = ?, attempts = attempts + 1 WHERE state = 'queued'", (until,)).rowcount
db.commit()
assert n >= 1, n
PY
}
lease_away 8000
start=$(date +%s%N)
"$FERRY_BIN" --config "$CONF" cp "$WORK/src5" "ra:$D5" --state "$S5" --restart --no-progress \
  > /dev/null 2> "$WORK/err5" &
pid5=$!
says_it_waits() { grep -q "waiting for the leases of the jobs of discarded run 1 to end" "$WORK/err5"; }
wait_for 20 says_it_waits || true
kill -INT $pid5
wait $pid5 && rc5=0 || rc5=$?
check "--restart waits for the lease a worker elsewhere holds, and Ctrl-C interrupts it" all \
  '[ "$rc5" != 0 ]' 'grep -q "waiting for the leases of the jobs of discarded run 1 to end" "$WORK/err5"'
check "  nothing copied meanwhile" [ "$(keys "ra:$D5")" = "" ]
run_json cp "$WORK/src5" "ra:$D5" --state "$S5"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
check "the plain run after it waits for that lease too, then copies (${elapsed} ms after the first)" all \
  '[ "$rc" = 0 ]' '[ "$elapsed" -ge 8000 ]' '[ "$(keys "ra:$D5")" = "a b c " ]' \
  'grep -q "waiting for the leases of the jobs of discarded run 1 to end" "$WORK/err"'
run_json cp "$WORK/src5" "ra:$D5" --state "$S5"
check "  a run after the lease ended does not wait" all '[ "$rc" = 0 ]' \
  '! grep -q "waiting for the leases" "$WORK/err"'

echo "# 6. bad input"
check "jobs show of an unknown run" expect_error 2 "run 999999 not found" \
  ferry jobs show 999999 --state "$S1"
check "jobs dlq of an unknown run" expect_error 2 "run 999999 not found" \
  ferry jobs dlq 999999 --state "$S1"
check "jobs redrive of an unknown run" expect_error 2 "run 999999 not found" \
  ferry jobs redrive 999999 --state "$S1"
for bad in "concurrency = -5" "concurrency = 0" 'memory = "-1"'; do
  { cat "$CONF"; printf '[transfer]\n%s\n' "$bad"; } > "$WORK/bad.toml"
  check "config [transfer] $bad" expect_error 2 "bad.toml: \[transfer\]: '${bad%% *}'" \
    "$FERRY_BIN" --config "$WORK/bad.toml" cp "$WORK/src1" "ra:$D1"
done
check "--concurrency -5" expect_error 2 "concurrency" ferry cp "$WORK/src1" "ra:$D1" --concurrency -5
check "worker --concurrency 0" expect_error 2 "concurrency" ferry worker --state "$S1" --concurrency 0
finish
