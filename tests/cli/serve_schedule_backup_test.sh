#!/usr/bin/env bash
# Scheduled backups and catalog prunes in `ferry serve` (docs/design/serve.md, "Schedules"): a
# serve on an SQLite state store with a backup of ra:A into rb:BK/s every 5 s. An archive
# appears at the backup location; `ferry restore --state` of the serve's store gives the bytes
# back; after a change the next occurrences pack only the change (one more version in the
# catalog, then no more); a catalog-prune schedule added by a SIGHUP (keep_last = 1) with a
# max_delete it is past fails its occurrences and forgets nothing, then without it forgets the
# superseded version; a key deleted at the source is recorded deleted by a later occurrence and
# left out of the restore; occurrences end succeeded in the store, the metrics and /api/status. Bad
# backup and prune schedules (and a bad zone) are refused in one line, exit 2.
source "$(dirname "$0")/testlib.bash"
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true; cleanup' EXIT
A=$(new_bucket ra)
BK=$(new_bucket rb)
LOC="rb:$BK/s"
ST=$WORK/serve.db
BASE=$(cat "$CONF")

bad() { # TOML of one [[schedules]] entry, the expected pattern
  printf '%s\n[[schedules]]\n%s\n' "$BASE" "$1" > "$CONF"
  expect_error 2 "$2" ferry serve --state "$WORK/bad.db" --listen "127.0.0.1:$(free_port)"
}
backup_keys='name = "b"
at = "hourly"
command = "backup"
source = "ra:'$A'"'
check "a backup without its location is refused" bad "$backup_keys" "'location' (the backup location) is missing"
check "a backup with a key of another command is refused" bad "$backup_keys
location = \"$LOC\"
destination = \"rb:x\"" "unknown key 'destination' for command 'backup'"
check "a backup's archive size out of range is refused" bad "$backup_keys
location = \"$LOC\"
archive_size = \"1KiB\"" "archive-size: 1MiB..4GiB"
check "a backup into a folder is refused" bad "$backup_keys
location = \"$WORK/folder\"" "\[\[schedules\]\] 'b': 'location'"
check "a backup with an unknown zone is refused" bad "$backup_keys
location = \"$LOC\"
tz = \"Europe/Nowhere\"" 'tz "Europe/Nowhere"'
check "a prune without a keep rule is refused" bad 'name = "p"
at = "daily 03:00"
command = "catalog-prune"
location = "'$LOC'"' "give 'keep_last' and/or 'keep_within'"

schedules() { # with or without the prune
  cat <<EOT
$BASE
[[schedules]]
name = "bk"
at = "every 5s"
tz = "Europe/Paris"
command = "backup"
source = "ra:$A"
location = "$LOC"
archive_size = "1MiB"
EOT
  [ "${1:-}" = prune ] && cat <<EOT
[[schedules]]
name = "prune"
at = "every 5s"
command = "catalog-prune"
location = "$LOC"
keep_last = 1
${2:-}
EOT
  true
}
schedules > "$CONF"
mkdir -p "$WORK/data"
for i in 1 2 3; do head -c $((i * 3000)) /dev/urandom > "$WORK/data/k$i"; done
ferry cp "$WORK/data" "ra:$A" --no-progress >/dev/null 2>&1
PORT=$(free_port)
"$FERRY_BIN" --config "$CONF" serve --state "$ST" --listen "127.0.0.1:$PORT" --lease-ttl 5 \
  > "$WORK/serve.out" 2> "$WORK/serve.err" &
pid=$!
up() { curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; }
check "serve starts with a backup schedule" wait_for 20 up
versions() { ferry catalog export "$LOC" --state "$ST" 2>/dev/null | tail -n +2 | wc -l; }
has_versions() { [ "$(versions)" = "$1" ]; }
check "the first occurrence backs the 3 objects up" wait_for 60 has_versions 3
archives() { aws_side b s3api list-objects-v2 --bucket "$BK" --prefix s/ --query 'length(Contents || `[]`)' --output text; }
has_archive() { [ "$(archives)" -ge 1 ]; }
check "an archive is at the backup location" has_archive
occurrences() { # SCHEDULE OUTCOME: how many occurrences ended so
  python3 - "$ST" "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
print(db.execute("SELECT count(*) FROM schedule_runs WHERE schedule = ? AND outcome = ?",
                 (sys.argv[2], sys.argv[3])).fetchone()[0])
PY
}
at_least() { [ "$(occurrences "$1" "$2")" -ge "$3" ]; }
check "backup occurrences end succeeded" wait_for 30 at_least bk succeeded 1
restored() {
  rm -rf "$WORK/out"
  ferry restore "$LOC" --prefix "" --to "$WORK/out" --state "$ST" >/dev/null 2>"$WORK/restore.err" &&
    diff -r "$WORK/data" "$WORK/out" >/dev/null
}
check "ferry restore --state of the serve's store gives the bytes back" restored
# a change: the next occurrence packs it alone (one more version), later ones pack nothing
head -c 5000 /dev/urandom > "$WORK/data/k2"
aws_side a s3api put-object --bucket "$A" --key k2 --body "$WORK/data/k2" >/dev/null
check "the change is backed up" wait_for 60 has_versions 4
before=$(occurrences bk succeeded)
more_ran() { [ "$(occurrences bk succeeded)" -ge $((before + 2)) ]; }
check "two more occurrences run" wait_for 40 more_ran
check "  and back nothing more up (only the change was packed)" has_versions 4
check "the restore gives the changed bytes" restored
# SIGHUP: a prune of the location keeping one state per key, first under a max_delete it is
# past ([catalog] allows it, the entry's own key wins): its occurrences fail, nothing forgotten
schedules prune 'max_delete = 0' > "$CONF"
printf '[catalog]\nmax_delete = 100\n' >> "$CONF"
kill -HUP "$pid"
check "a prune past its max_delete: the occurrences fail" wait_for 60 at_least prune failed 1
refusal() {
  python3 - "$ST" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
print(db.execute("SELECT error FROM schedule_runs WHERE schedule = 'prune' AND outcome = 'failed'"
                 " LIMIT 1").fetchone()[0])
PY
}
refusal > "$WORK/refusal"
check "  with the refusal as their error" grep -qF \
  "1 versions to forget, over [[schedules]] 'prune' max_delete 0: nothing was forgotten" "$WORK/refusal"
check "  and nothing forgotten" has_versions 4
schedules prune > "$CONF"
kill -HUP "$pid"
check "the prune forgets the superseded version" wait_for 60 has_versions 3
check "prune occurrences end succeeded" wait_for 30 at_least prune succeeded 1
refused=$(occurrences prune failed)
more_pruned() { [ "$(occurrences prune succeeded)" -ge 2 ]; }
check "  more of them" wait_for 30 more_pruned
check "  and none failed since the limit went" [ "$(occurrences prune failed)" = "$refused" ]
check "  nor a backup" [ "$(occurrences bk failed)" = 0 ]
check "the restore after the prune gives the bytes" restored
# a key deleted at the source: a later occurrence records its deletion (the listing of the run
# that noted it complete), and the restore leaves it out
aws_side a s3api delete-object --bucket "$A" --key k3 >/dev/null
rm "$WORK/data/k3"
k3_gone() { ! ferry catalog ls "$LOC" --state "$ST" 2>/dev/null | grep -q 'k3'; }
check "the deletion at the source reaches the catalog" wait_for 60 k3_gone
check "the restore leaves the deleted key out" restored
metric() { # SCHEDULE OUTCOME
  curl -sf "http://127.0.0.1:$PORT/metrics" |
    awk -v s="$1" -v o="$2" '$1 ~ "^ferry_schedule_runs_total" && $1 ~ "schedule=\""s"\"" && $1 ~ "outcome=\""o"\"" { v += $2 } END { print v + 0 }'
}
check "the metrics count succeeded backups and prunes" \
  bash -c "[ $(metric bk succeeded) -ge 1 ] && [ $(metric prune succeeded) -ge 1 ]"
check "/api/status lists both schedules, the zone with the backup's" \
  bash -c "curl -sf http://127.0.0.1:$PORT/api/status | python3 -c 'import json,sys; d=json.load(sys.stdin); s={x[\"name\"]: x for x in d[\"schedules\"]}; assert s[\"bk\"][\"at\"] == \"every 5s Europe/Paris\" and s[\"bk\"][\"recent\"] and s[\"prune\"][\"recent\"], d'"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
finish
