#!/usr/bin/env bash
# The adaptive zstd level (docs/design/transport.md, "Adaptive level"): a `--compress` run
# without --compress-level packs each archive at a level its content class's history picks,
# records one trial per archive in the state store (level_history), says which levels it used
# (text and --json), and a second run with the same state learns on from the first one's
# history; `ferry worker` names the levels it packed at. An explicit --compress-level keeps to
# that level and records nothing; a level out of range is one line, exit 2.
source "$(dirname "$0")/testlib.bash"
DST=$(new_bucket rb); D2=$(new_bucket rb); STG=$(new_bucket rb)
mkdir -p "$WORK/src/a" "$WORK/src/b"
# ~1.6 MiB of CSV under a/, ~1.3 MiB of JSON under b/: 1 MiB archives hold one class each
# (keys in order), a few archives per class.
for i in $(seq 1 16); do
  seq 1 9000 | awk -v f="$i" '{print f "," $1 ",sensor-" ($1 % 17) "," ($1 * 7 % 1000) / 10}' \
    > "$WORK/src/a/part-$i.csv"
done
for i in $(seq 1 12); do
  seq 1 3000 | awk -v f="$i" '{printf "{\"id\":%d,\"file\":%d,\"ok\":true,\"v\":%d}\n", $1, f, $1 % 97}' \
    > "$WORK/src/b/rec-$i.json"
done
STATE=$WORK/levels.db
trials() { sqlite3 "$STATE" "SELECT COALESCE(SUM(trials), 0) FROM level_history $1"; }

ferry sync "$WORK/src" "rb:$DST" --compress --staging "rb:$STG/s" --archive-size 1MiB \
  --state "$STATE" --no-progress --json > "$WORK/run1.json"
check "the run copies every object" python3 -c "
import json; j = json.load(open('$WORK/run1.json'))
assert j['ok'] and j['objects_copied'] == 28, j"
check "--json says which levels each class was packed at, one count per archive" python3 -c "
import json; t = json.load(open('$WORK/run1.json'))['transport']
levels = t['levels']
assert set(levels) == {'csv', 'json'}, levels
n = sum(sum(c.values()) for c in levels.values())
assert n == t['archives'] and n >= 4, (n, t)
# no history yet: zstd's default (3) and exploration at most 3 levels away
assert all(1 <= int(l) <= 6 for c in levels.values() for l in c), levels"
A1=$(python3 -c "import json; print(json.load(open('$WORK/run1.json'))['transport']['archives'])")
check "one history row per class and level used, a trial per archive" \
  [ "$(trials "")" = "$A1" ]
check "  per class" [ "$(trials "WHERE content_class IN ('csv', 'json')")" = "$A1" ]
check "  with the bytes packed and CPU measured" \
  [ "$(sqlite3 "$STATE" "SELECT COUNT(*) FROM level_history WHERE bytes_in > bytes_out AND bytes_out > 0 AND cpu_us > 0 AND version = trials")" \
    = "$(sqlite3 "$STATE" "SELECT COUNT(*) FROM level_history")" ]

# A second run with the same state store adds to the same history.
mkdir -p "$WORK/src/a2"
cp "$WORK/src/a/part-1.csv" "$WORK/src/a2/more.csv"
ferry sync "$WORK/src" "rb:$DST" --compress --staging "rb:$STG/s" --archive-size 1MiB \
  --state "$STATE" --no-progress 2> "$WORK/run2.err"
check "a second run learns on: one more trial" [ "$(trials "")" = "$((A1 + 1))" ]
check "  and the summary names the level used" \
  grep -q "^adaptive zstd levels (level x archives): csv [0-9]*x1$" "$WORK/run2.err"

# An explicit level: that level, nothing learned.
ferry sync "$WORK/src" "rb:$D2" --compress --staging "rb:$STG/e" --archive-size 1MiB \
  --compress-level 5 --state "$STATE" --no-progress --json > "$WORK/run3.json"
check "--compress-level 5: no adaptive levels in the summary" python3 -c "
import json; j = json.load(open('$WORK/run3.json'))
assert j['ok'] and j['objects_copied'] == 29 and j['transport']['levels'] == {}, j"
check "  and no trial recorded" [ "$(trials "")" = "$((A1 + 1))" ]
# A worker that packs says which levels it used.
D3=$(new_bucket rb)
ferry sync "$WORK/src/b" "rb:$D3" --compress --staging "rb:$STG/w" --archive-size 1MiB \
  --state "$WORK/w.db" --detach >/dev/null 2>&1
timeout -s INT 4 "$FERRY_BIN" --config "$CONF" worker --state "$WORK/w.db" --role pack \
  2> "$WORK/w.err" || true
check "ferry worker --role pack names the levels it packed at" \
  grep -q "^ferry worker: adaptive zstd levels (level x archives): json [0-9]x[0-9]" "$WORK/w.err"
# The run carries the configured [costs] the adaptive level weighs ($/GiB of the link A -> B,
# $/CPU-second), and a rerun without --compress-level resumes a run started with one.
{ cat "$CONF"; printf '[costs]\nper_gb = 0.09\nper_cpu_second = 0.0001\n'; } > "$WORK/costs.toml"
D4=$(new_bucket rb)
SA=$(new_bucket ra)
ferry cp "$WORK/src/b" "ra:$SA" --no-state --no-progress 2>/dev/null
"$FERRY_BIN" --config "$WORK/costs.toml" sync "ra:$SA" "rb:$D4" --compress \
  --staging "rb:$STG/p" --compress-level 4 --state "$WORK/p.db" --detach >/dev/null 2>&1
check "the run's options carry the configured prices" python3 -c "
import json, sqlite3
o = json.loads(sqlite3.connect('$WORK/p.db').execute('SELECT options FROM runs').fetchone()[0])
assert o['transport']['prices'] == {'per_gib': 0.09, 'per_cpu_second': 0.0001}, o"
"$FERRY_BIN" --config "$WORK/costs.toml" sync "ra:$SA" "rb:$D4" --compress \
  --staging "rb:$STG/p" --state "$WORK/p.db" --no-progress 2> "$WORK/resume.err"
check "a rerun without --compress-level resumes the level-4 run" \
  grep -q "resuming run 1" "$WORK/resume.err"
check "  and finishes it" [ "$(sqlite3 "$WORK/p.db" "SELECT state FROM runs WHERE id = 1")" = done ]
check "--compress-level out of range: one line, exit 2" \
  expect_error 2 "compress-level: 1..19 (0 = adaptive)" \
  ferry sync "$WORK/src" "rb:$D2" --compress --staging "rb:$STG/e" --compress-level 20
finish
