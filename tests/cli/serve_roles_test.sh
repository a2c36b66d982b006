#!/usr/bin/env bash
# ferry serve's roles (docs/design/serve.md, "Roles") against the RGW pair, with no replication:
# a cache expiry role ([[serve.cache]], what `ferry cache serve` does) deletes what a warm cached
# with a short ttl and keeps what is fresh; an unpack follower ([[serve.unpack]], what `ferry
# unpack --follow` does) writes every object of the archives `ferry sync --compress --pack-only`
# staged, byte-identical, empties staging, and picks up archives staged while it runs. /api/status
# lists the roles and their last outcome, /metrics counts their work. A second serve on the same
# state store runs the same roles at once: between the two, each expired object is counted once
# and each object written once (expiry's compare-and-swap, archive claims). A SIGHUP whose config drops
# the cache role stops it (what expires afterwards stays) while the follower goes on; a SIGHUP
# with a bad role entry is refused (the roles go on); a bad role entry at the start and in
# `ferry config check` is one error line, exit 2; SIGTERM ends it with exit 0 within seconds. A
# cache role's max_delete stops each expiry pass past it (logged, counted failed, nothing
# deleted).
source "$(dirname "$0")/testlib.bash"
S=$(new_bucket ra)    # the cache's source
C=$(new_bucket rb)    # the cache
STG=$(new_bucket rb)  # staging
DST=$(new_bucket rb)  # the unpacked archives' destination
CST=$WORK/cache.db
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cp "$CONF" "$WORK/base.toml"

# --- bad role entries: one line, exit 2 (serve and config check) ---
cp "$WORK/base.toml" "$WORK/bad.toml"
printf '[serve]\nlisten = "127.0.0.1:%s"\n[[serve.cache]]\ncache = "rb:%s"\nttl = "1h"\n' \
  "$PORT" "$C" >> "$WORK/bad.toml"
check "serve refuses an unknown key of [[serve.cache]] in one line" \
  expect_error 2 "\[\[serve.cache\]\] #1: unknown key 'ttl'" \
  "$FERRY_BIN" --config "$WORK/bad.toml" serve --state "$WORK/bad.db"
check "  and so does config check" expect_error 2 "\[\[serve.cache\]\] #1: unknown key 'ttl'" \
  "$FERRY_BIN" --config "$WORK/bad.toml" config check
cp "$WORK/base.toml" "$WORK/bad2.toml"
printf '[serve]\n[[serve.unpack]]\nstaging = "rb:%s/s"\ndestination = "rb:%s"\ninterval = "0s"\n' \
  "$STG" "$DST" >> "$WORK/bad2.toml"
check "serve refuses an unpack interval under 1s in one line" \
  expect_error 2 "\[\[serve.unpack\]\] #1: 'interval' must be from 1s" \
  "$FERRY_BIN" --config "$WORK/bad2.toml" serve --state "$WORK/bad.db"
cp "$WORK/base.toml" "$WORK/bad3.toml"
printf '[serve]\n[[serve.cache]]\ncache = "rb:nosuch-%s"\n' "$RANDOM$RANDOM" >> "$WORK/bad3.toml"
check "serve refuses a cache role whose bucket does not exist in one line (exit 1)" \
  expect_error 1 "\[\[serve.cache\]\] #1 (rb:nosuch-.*): cache: " \
  "$FERRY_BIN" --config "$WORK/bad3.toml" serve --state "$WORK/bad.db"

# --- the cache: old/ cached for 2 s, fresh/ for an hour ---
mkdir -p "$WORK/s/old" "$WORK/s/fresh" "$WORK/s/later"
for i in 1 2 3 4 5; do echo "old $i" > "$WORK/s/old/$i.txt"; done
for i in 1 2 3; do echo "fresh $i" > "$WORK/s/fresh/$i.txt"; done
for i in 1 2; do echo "later $i" > "$WORK/s/later/$i.txt"; done
ferry cp "$WORK/s" "ra:$S" --no-progress >/dev/null 2>&1
warm() { ferry cache warm "ra:$S" --cache "rb:$C" --state "$CST" --json "$@" >> "$WORK/warm.json"; }
warm --prefix fresh/ --ttl 1h
warm --prefix old/ --ttl 2s
count_c() {  # count_c PREFIX: objects in the cache under PREFIX
  aws_side b s3api list-objects-v2 --bucket "$C" --prefix "$1" --query 'length(Contents || `[]`)' \
    --output text
}
check "warmed: old/ and fresh/ in the cache" [ "$(count_c old/).$(count_c fresh/)" = 5.3 ]

# --- staged archives ---
python3 - "$WORK/src" 300 16384 <<'PY'
import base64, os, sys
folder, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(folder, exist_ok=True)
for i in range(n):
    with open(os.path.join(folder, "o%04d.txt" % i), "wb") as f:
        f.write(base64.b64encode(os.urandom(size * 3 // 4))[:size])
PY
ferry sync "$WORK/src" "rb:$DST/a" --compress --staging "rb:$STG/s" --pack-only \
  --archive-size 1MiB --no-progress 2>"$WORK/pack1.err"
ARCHIVES=$(ferry ls "rb:$STG/s" | grep -c '\.fza$' || true)
check "pack-only staged several archives ($ARCHIVES)" [ "$ARCHIVES" -ge 2 ]

# --- a cache role's max_delete (over [cache] max_delete): old/'s 5 expired objects are past 4,
# so each pass is refused, logged and counted failed, and nothing is deleted ---
LPORT=$(free_port)
cp "$WORK/base.toml" "$WORK/limited.toml"
printf '[cache]\nmax_delete = 100\n[serve]\nlisten = "127.0.0.1:%s"\n' "$LPORT" >> "$WORK/limited.toml"
printf '[[serve.cache]]\ncache = "rb:%s"\nstate = "%s"\ninterval = "1s"\nmax_delete = 4\n' \
  "$C" "$CST" >> "$WORK/limited.toml"
"$FERRY_BIN" --config "$WORK/limited.toml" serve --state "$WORK/limited.db" \
  > "$WORK/limited.out" 2> "$WORK/limited.err" &
lpid=$!
refused_twice() { [ "$(grep -c 'over \[\[serve.cache\]\] max_delete 4: nothing was deleted' "$WORK/limited.err")" -ge 2 ]; }
check "a cache role past its max_delete: each pass refused and logged" wait_for 30 refused_twice
check "  and counted failed in /metrics" bash -c "curl -sf http://127.0.0.1:$LPORT/metrics | grep -q '^ferry_serve_role_passes_total{role=\"cache\",name=\"[^\"]*\",result=\"failed\"}'"
kill -TERM "$lpid"; wait "$lpid" || true
check "  nothing deleted: old/ is all in the cache" [ "$(count_c old/)" = 5 ]

roles_conf() {  # roles_conf FILE [nocache]
  cp "$WORK/base.toml" "$1"
  printf '[serve]\nlisten = "127.0.0.1:%s"\n' "$PORT" >> "$1"
  if [ "${2:-}" != nocache ]; then
    printf '[[serve.cache]]\ncache = "rb:%s"\nstate = "%s"\ninterval = "1s"\nmax_size = "4KiB"\n' \
      "$C" "$CST" >> "$1"
  fi
  printf '[[serve.unpack]]\nstaging = "rb:%s/s"\ndestination = "rb:%s/a"\nstate = "%s"\n' \
    "$STG" "$DST" "$WORK/unpack.db" >> "$1"
  printf 'interval = "1s"\nclaim_ttl = "10s"\n' >> "$1"
}
roles_conf "$WORK/serve.toml"
"$FERRY_BIN" --config "$WORK/serve.toml" serve --state "$WORK/state.db" \
  > "$WORK/serve.out" 2> "$WORK/serve.err" &
pid=$!
# a second serve on the same state store with the same roles (its own unpack progress store, as
# a second `ferry unpack` has): the two expire one cache and follow one staging prefix at once
PORT2=$(free_port)
URL2=http://127.0.0.1:$PORT2
sed -e "s/^listen = .*/listen = \"127.0.0.1:$PORT2\"/" -e "s#unpack.db#unpack2.db#" \
  "$WORK/serve.toml" > "$WORK/serve2.toml"
"$FERRY_BIN" --config "$WORK/serve2.toml" serve --state "$WORK/state.db" \
  > "$WORK/serve2.out" 2> "$WORK/serve2.err" &
pid2=$!
check "healthz answers once it serves" wait_for 30 curl -sf -o /dev/null "$URL/healthz"
check "  (the second serve's too)" wait_for 30 curl -sf -o /dev/null "$URL2/healthz"

# the cache role expires what is old and keeps what is fresh
old_gone() { [ "$(count_c old/)" = 0 ]; }
check "the cache role expires old/ (ttl 2s)" wait_for 30 old_gone
check "  and keeps fresh/ (ttl 1h)" [ "$(count_c fresh/)" = 3 ]
check "  its index keeps fresh/ only" python3 -c "
import sqlite3, sys
rows = sqlite3.connect('$CST').execute('select count(*) from cache_entries').fetchone()[0]
sys.exit(0 if rows == 3 else 'rows: %d' % rows)"

# the unpack role writes every object, byte-identical, and empties staging
count_dst() { aws_side b s3api list-objects-v2 --bucket "$DST" --prefix a/ --query 'length(Contents || `[]`)' --output text; }
at_dst() { [ "$(count_dst)" = "$1" ]; }
check "the unpack role writes all 300 objects" wait_for 60 at_dst 300
staging_empty() { [ -z "$(ferry ls "rb:$STG")" ]; }
check "  and empties staging" wait_for 30 staging_empty
ferry cp "rb:$DST/a" "$WORK/back" --no-progress >/dev/null 2>&1
check "  every object byte-identical" diff -r "$WORK/src" "$WORK/back"

status=$(curl -sf "$URL/api/status")
status2=$(curl -sf "$URL2/api/status")
check "/api/status lists both roles with their last outcome" python3 -c "
import json, sys
both = [{r['role']: r for r in json.loads(a)['roles']} for a in sys.argv[1:]]
for by in both:
    assert set(by) == {'cache', 'unpack'}, by
    assert by['cache']['last']['outcome'] == 'ok' and by['cache']['passes'] >= 1, by['cache']
    assert by['unpack']['last']['outcome'] == 'ok', by['unpack']
    assert by['unpack']['name'] == 'rb:$STG/s', by['unpack']
# between the two serves every archive unpacked once (claims)
assert sum(by['unpack']['last']['archives'] for by in both) == $ARCHIVES, both
assert sum(by['unpack']['last']['objects_written'] for by in both) == 300, both" \
  "$status" "$status2"
curl -sf "$URL/metrics" > "$WORK/m1"
curl -sf "$URL2/metrics" > "$WORK/m2"
summed() {  # summed REGEX: the sum over both serves of the series matching REGEX
  cat "$WORK/m1" "$WORK/m2" | grep -E "$1" | awk '{s += $NF} END {print s + 0}'
}
check "/metrics: between the two serves each expired object counted once" \
  [ "$(summed '^ferry_serve_cache_expired_objects_total\{cache="[^"]*"\} ')" = 5 ]
check "  each unpacked object written once" \
  [ "$(summed "^ferry_serve_unpack_objects_written_total\\{staging=\"rb:$STG/s\"\\} ")" = 300 ]
check "  and the passes counted" \
  grep -q "^ferry_serve_role_passes_total{role=\"unpack\",name=\"rb:$STG/s\",result=\"ok\"}" "$WORK/m1"
# the cache's totals by its index after a pass: fresh/'s 3 objects of 8 bytes, and its max_size
gauge() { grep -E "^$1\{cache=\"[^\"]*\"\} " "$WORK/m1" | awk '{print $NF}'; }
check "  the cache's ferry_cache_objects, ferry_cache_bytes and ferry_cache_max_bytes" \
  [ "$(gauge ferry_cache_objects).$(gauge ferry_cache_bytes).$(gauge ferry_cache_max_bytes)" = 3.24.4096 ]
kill -TERM "$pid2"
rc=0; wait "$pid2" || rc=$?
check "the second serve ends on SIGTERM with exit 0" [ "$rc" = 0 ]

# a SIGHUP with a bad role entry is refused; the roles go on
cp "$WORK/serve.toml" "$WORK/serve.good"
cp "$WORK/bad.toml" "$WORK/serve.toml"
kill -HUP "$pid"
refused() { grep -q "config reload refused.*unknown key 'ttl'" "$WORK/serve.err"; }
check "a SIGHUP with a bad [[serve.cache]] is refused" wait_for 15 refused
check "  still serving" curl -sf -o /dev/null "$URL/healthz"

# a SIGHUP without the cache role stops it; the unpack role goes on
roles_conf "$WORK/serve.toml" nocache
kill -HUP "$pid"
applied() { grep -q "config reloaded" "$WORK/serve.err"; }
check "a SIGHUP dropping the cache role is applied" wait_for 30 applied
only_unpack() {
  curl -sf "$URL/api/status" | python3 -c "
import json, sys
roles = json.load(sys.stdin).get('roles', [])
sys.exit(0 if [r['role'] for r in roles] == ['unpack'] else 1)"
}
check "  /api/status lists the unpack role only" wait_for 15 only_unpack
warm --prefix later/ --ttl 1s
# Kept: nothing happening is what is tested. A cache role (interval 1s) would have expired them
# 2 s after the warm at most (TTL 1 s, then its next pass); 3 s leave a second's margin.
sleep 3
check "  what expires after the reload stays in the cache (no expiry runs)" [ "$(count_c later/)" = 2 ]
mkdir -p "$WORK/src2"; for i in $(seq 1 30); do echo "second $i" > "$WORK/src2/n$i.txt"; done
ferry sync "$WORK/src2" "rb:$DST/a" --compress --staging "rb:$STG/s" --pack-only \
  --no-progress 2>"$WORK/pack2.err"
check "  the unpack role goes on: archives staged after the reload arrive" wait_for 60 at_dst 330
check "  and staging is emptied again" wait_for 30 staging_empty

start=$(date +%s)
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
check "SIGTERM ends it with exit 0" [ "$rc" = 0 ]
check "  within 10 s" [ $(( $(date +%s) - start )) -le 10 ]
[ "$rc" = 0 ] || tail -5 "$WORK/serve.err"
finish
