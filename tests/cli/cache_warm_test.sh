#!/usr/bin/env bash
# ferry cache warm/expire/verify end to end on RGW (source on gateway A, cache on gateway B) with
# a SQLite index: copy once, skip and renew what is cached, recopy a changed object, a request
# file, failures reported to later requests until --force, exact expiry with a short TTL,
# verify mending both ways, and bad requests refused with one line; --max-delete and the config's
# [cache] max_delete stop an expiry past them (cache expire and cache serve) with nothing deleted.
source "$(dirname "$0")/testlib.bash"

S=$(new_bucket ra)
C=$(new_bucket rb)
ST=$WORK/cache.db
mkdir -p "$WORK/src/y23/m02" "$WORK/src/y24"
for i in 1 2 3; do
  echo "y23 $i" > "$WORK/src/y23/o$i"
  echo "m02 $i" > "$WORK/src/y23/m02/o$i"
  echo "y24 $i" > "$WORK/src/y24/o$i"
done
ferry cp "$WORK/src" "ra:$S" --no-progress >/dev/null 2>&1
jget() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
warm() { ferry cache warm "ra:$S" --cache "rb:$C" --state "$ST" --json "$@"; }

warm --prefix y23/ --prefix y23/m02/ --ttl 1h > "$WORK/w1.json"
check "first warm copies every object under the prefixes" [ "$(jget "$WORK/w1.json" '["copied"]')" = 6 ]
check "nested prefixes are one" [ "$(jget "$WORK/w1.json" '["prefixes"]')" = "['y23/']" ]
check "only those are in the cache" [ "$(ferry ls "rb:$C" | wc -l)" = 6 ]

warm --prefix y23/m02/ --ttl 1h > "$WORK/w2.json"
check "a repeated warm copies nothing" [ "$(jget "$WORK/w2.json" '["copied"]')" = 0 ]
check "and skips (renews) what is cached" [ "$(jget "$WORK/w2.json" '["skipped"]')" = 3 ]

echo "changed" > "$WORK/src/y23/o1"
ferry cp "$WORK/src" "ra:$S" --no-progress >/dev/null 2>&1
warm --prefix "" --ttl 1h --report "$WORK/rep3" --report-level all > "$WORK/w3.json"
check "a changed source object is recopied (plus y24/)" [ "$(jget "$WORK/w3.json" '["copied"]')" = 4 ]
# --report (docs/design/report.md): a row per object listed, the summary's counts the run's
RC=$FERRY_TEST_TOOLS/report_check.py
check "the report has a copied row per copy" [ "$(python3 "$RC" count "$WORK/rep3" copied)" = 4 ]
check "and a skipped row per cached object" [ "$(python3 "$RC" count "$WORK/rep3" skipped)" = 5 ]
check "a cached row names what was compared" [ "$(python3 "$RC" field "$WORK/rep3" y23/o2 checksum)" = etag ]
check "the summary counts the copies" [ "$(python3 "$RC" summary "$WORK/rep3" counts.copied.ok)" = 4 ]
check "the cache holds the new bytes" [ "$(ferry ls "rb:$C" --json | grep -c '"key":"y23/o1"')" = 1 ]
mkdir -p "$WORK/back"
ferry cp "rb:$C" "$WORK/back" --no-progress >/dev/null 2>&1
check "cached bytes equal the source's" diff -r "$WORK/src" "$WORK/back"

# a request file in the shape S3 Express caching solutions use
cat > "$WORK/req.json" <<JSON
{"bucket": "ra:$S", "prefixes": ["y24/"], "ttl": 2, "directory_bucket": "rb:$C", "force_copy": true}
JSON
ferry cache warm --request "$WORK/req.json" --state "$ST" --json > "$WORK/w4.json"
check "a request file with force_copy recopies its prefixes" [ "$(jget "$WORK/w4.json" '["copied"]')" = 3 ]

# a failure is reported to later requests until --force (a dangling link cannot be read)
L=$WORK/local
mkdir -p "$L/p"
echo fine > "$L/p/good"
ln -s "$WORK/nowhere" "$L/p/bad"
rc=0; ferry cache warm "$L" --prefix p/ --cache "rb:$C" --state "$ST" --ttl 1h --json \
  --report "$WORK/repf" --report-level errors > "$WORK/f1.json" 2>/dev/null || rc=$?
check "a failed object makes the request exit 1" [ "$rc" = 1 ]
check "and is listed with its error" [ "$(jget "$WORK/f1.json" '["failures"][0]["key"]')" = p/bad ]
check "the report's only row (level errors) is the failure" \
  [ "$(python3 "$RC" rows "$WORK/repf" | cut -d' ' -f1,2,4)" = 'failed failed "p/bad"' ]
check "with its error" grep -q 'copy: ' <(python3 "$RC" field "$WORK/repf" p/bad error_message)
check "the summary counts the copy of the good one too" \
  [ "$(python3 "$RC" summary "$WORK/repf" counts.copied.ok)" = 1 ]
rm "$L/p/bad"; echo now-fine > "$L/p/bad"
ferry cache warm "$L" --prefix "" --cache "rb:$C" --state "$ST" --ttl 1h --json > "$WORK/f2.json"
check "a later request copies it" [ "$(jget "$WORK/f2.json" '["copied"]')" = 1 ]
check "and learns of the earlier failure" [ "$(jget "$WORK/f2.json" '["earlier_failures"][0]["key"]')" = p/bad ]
ferry cache warm "$L" --prefix p/ --cache "rb:$C" --state "$ST" --ttl 1h --force --json > "$WORK/f3.json"
check "--force recopies everything" [ "$(jget "$WORK/f3.json" '["copied"]')" = 2 ]
check "and forgets the failures" [ "$(jget "$WORK/f3.json" '["earlier_failures"]')" = "[]" ]

# exact expiry: a 2 s TTL on y24/ (the rest has an hour)
warm --prefix y24/ --ttl 2s --force > /dev/null
ferry cache expire --cache "rb:$C" --state "$ST" --json > "$WORK/e1.json"
check "nothing expires before its TTL" [ "$(jget "$WORK/e1.json" '["expired"]')" = 0 ]
# Kept: the time is what is tested (an entry expires once its TTL has passed, not before): the
# 2 s TTL counts from the warm, which has returned, and 0.2 s more for the clocks' granularity
sleep 2.2
# --max-delete: 3 expired of the objects cached; past the limit nothing is deleted, exit 2
check "expire --max-delete 2: refused, exit 2" \
  expect_error 2 "3 expired objects to delete, over --max-delete 2: nothing was deleted" \
  ferry cache expire --cache "rb:$C" --state "$ST" --max-delete 2
check "expire --max-delete 1%: refused with the share, exit 2" \
  expect_error 2 "% of the [0-9]* cached), over --max-delete 1%" \
  ferry cache expire --cache "rb:$C" --state "$ST" --max-delete 1%
check "expire --max-delete x: a bad value, exit 2" expect_error 2 "--max-delete" \
  ferry cache expire --cache "rb:$C" --state "$ST" --max-delete x
# the config's [cache] max_delete: the limit without the flag (a bad value in one line naming
# the file, the section and the key, from `config check` too); the flag wins over it
{ cat "$CONF"; printf '\n[cache]\nmax_delete = 2\n'; } > "$WORK/limited.toml"
{ cat "$CONF"; printf '\n[cache]\nmax_delete = "lots"\n'; } > "$WORK/badlimit.toml"
check "config check accepts [cache] max_delete" "$FERRY_BIN" --config "$WORK/limited.toml" config check
check "config check refuses max_delete = \"lots\"" expect_error 2 "badlimit.toml: \[cache\]: 'max_delete'" \
  "$FERRY_BIN" --config "$WORK/badlimit.toml" config check
check "  and so does cache expire" expect_error 2 "badlimit.toml: \[cache\]: 'max_delete'" \
  "$FERRY_BIN" --config "$WORK/badlimit.toml" cache expire --cache "rb:$C" --state "$ST"
check "expire under [cache] max_delete = 2: refused, exit 2" \
  expect_error 2 "3 expired objects to delete, over \[cache\] max_delete 2: nothing was deleted" \
  "$FERRY_BIN" --config "$WORK/limited.toml" cache expire --cache "rb:$C" --state "$ST"
# cache serve: every pass past the key is refused and logged, nothing deleted
"$FERRY_BIN" --config "$WORK/limited.toml" cache serve --cache "rb:$C" --state "$ST" \
  --interval 1s > "$WORK/lserve.out" 2> "$WORK/lserve.err" &
lserve=$!
two_refused() { [ "$(grep -c 'over \[cache\] max_delete 2' "$WORK/lserve.err")" -ge 2 ]; }
check "cache serve under [cache] max_delete: its passes refused and logged" wait_for 20 two_refused
kill -TERM "$lserve"; wait "$lserve" || true
check "and the y24/ objects are all still cached" [ "$(ferry ls "rb:$C" | grep -c ' y24/')" = 3 ]
"$FERRY_BIN" --config "$WORK/limited.toml" cache expire --cache "rb:$C" --state "$ST" --json \
  --max-delete 3 > "$WORK/e2.json"
check "objects past their TTL are deleted" [ "$(jget "$WORK/e2.json" '["expired"]')" = 3 ]
check "from the cache bucket too" [ "$(ferry ls "rb:$C" | grep -c ' y24/')" = 0 ]

# serve: expiry passes in a loop until SIGTERM
warm --prefix y24/ --ttl 1s > /dev/null
"$FERRY_BIN" --config "$CONF" cache serve --cache "rb:$C" --state "$ST" --interval 1s \
  > "$WORK/serve.out" 2> "$WORK/serve.err" &
serve=$!
y24_gone() { [ "$(ferry ls "rb:$C" | grep -c ' y24/')" = 0 ]; }
wait_for 20 y24_gone || true
kill -TERM "$serve"; rc=0; wait "$serve" || rc=$?
check "serve expires objects while it runs" [ "$(ferry ls "rb:$C" | grep -c ' y24/')" = 0 ]
check "serve reports its passes" grep -q "3 expired" "$WORK/serve.out"
check "serve stops cleanly on SIGTERM" [ "$rc" = 0 ]

# verify: an object deleted behind the index's back, an unknown object
ferry ls "rb:$C" > "$WORK/before.txt"
echo stray > "$WORK/stray"; mkdir -p "$WORK/strays"; mv "$WORK/stray" "$WORK/strays/"
ferry cp "$WORK/strays" "rb:$C/x/" --no-progress >/dev/null 2>&1
ferry cache verify --cache "rb:$C" --state "$ST" --json > "$WORK/v1.json"
check "verify reports the unknown object" [ "$(jget "$WORK/v1.json" '["unknown"]')" = 1 ]
ferry cache verify --cache "rb:$C" --state "$ST" --adopt "ra:$S" --json > "$WORK/v2.json"
check "an object the source does not hold is deleted, not adopted" \
  [ "$(jget "$WORK/v2.json" '["deleted"]'),$(jget "$WORK/v2.json" '["adopted"]')" = 1,0 ]
# a state store that never saw the cache deletes nothing (before: the whole location went)
n_before=$(ferry ls "rb:$C" | wc -l)
check "verify --delete-unknown with a fresh --state: refused, one line" expect_error 1 \
  "knows nothing of the cache" \
  ferry cache verify --cache "rb:$C" --state "$WORK/fresh.db" --delete-unknown
check "  and every object is still there" [ "$(ferry ls "rb:$C" | wc -l)" = "$n_before" ]

# bad requests: one line each
check "negative TTL refused" expect_error 2 "TTL must be positive" \
  ferry cache warm "ra:$S" --prefix y23/ --cache "rb:$C" --state "$ST" --ttl=-1h
echo '{"bucket": "x", "prefixes": [' > "$WORK/bad.json"
check "malformed JSON refused" expect_error 2 "malformed JSON" \
  ferry cache warm --request "$WORK/bad.json" --cache "rb:$C" --state "$ST"
echo "{\"bucket\": \"ra:$S\", \"prefixes\": [\"\"], \"ttl\": -3}" > "$WORK/neg.json"
check "negative TTL in a request file refused" expect_error 2 "positive number of hours" \
  ferry cache warm --request "$WORK/neg.json" --cache "rb:$C" --state "$ST"
check "unknown source bucket refused" expect_error 1 "source" \
  ferry cache warm "ra:no-such-bucket-$$" --prefix "" --cache "rb:$C" --state "$ST" --ttl 1h
check "unknown cache bucket refused" expect_error 1 "cache" \
  ferry cache warm "ra:$S" --prefix "" --cache "rb:no-such-bucket-$$" --state "$ST" --ttl 1h
check "no prefix refused" expect_error 2 "prefix" \
  ferry cache warm "ra:$S" --cache "rb:$C" --state "$ST" --ttl 1h
check "--dry-run with --report refused" expect_error 2 "--dry-run and --report" \
  ferry cache warm "ra:$S" --prefix "" --cache "rb:$C" --state "$ST" --ttl 1h --dry-run \
  --report "$WORK/repd"

# --detach with --report: the worker that serves the warm writes its rows, the run's summary
# job the summary (docs/design/report.md)
mkdir -p "$WORK/src25/y25"
for i in 1 2; do echo "y25 $i" > "$WORK/src25/y25/o$i"; done
ferry cp "$WORK/src25" "ra:$S" --no-progress >/dev/null 2>&1
ferry cache warm "ra:$S" --prefix y25/ --cache "rb:$C" --state "$ST" --ttl 1h --detach --json \
  --report "$WORK/repd" > "$WORK/qd.json"
RUN_D=$(jget "$WORK/qd.json" '["run"]')
check "a detached warm with --report is queued" [ -n "$RUN_D" ]
ferry worker --state "$ST" --run "$RUN_D" --until-done > "$WORK/wd.log" 2>&1 || true
check "  the worker wrote a copied row per object" \
  [ "$(python3 "$RC" count "$WORK/repd" copied)" = 2 ]
check "  and the summary, which counts them" \
  [ "$(python3 "$RC" summary "$WORK/repd" counts.copied.ok)" = 2 ]
check "  the cache holds them" [ "$(ferry ls "rb:$C" | grep -c ' y25/')" = 2 ]
finish
