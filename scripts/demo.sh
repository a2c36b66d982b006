#!/usr/bin/env bash
# ferry's main job, end to end, on a laptop-sized setup:
#
#   bash scripts/demo.sh
#
# 1. installs what is missing and builds ferry (Release, build-release/, as CI builds: unity batches);
# 2. starts (or reuses) two Ceph RGW gateways on 127.0.0.1: region A and region B;
# 3. makes a sample source: a local folder of ~300 files (0 bytes to 20 MiB, nested prefixes,
#    keys with spaces, unicode, '+', '~'), copied to bucket demo-src in region A with `ferry cp`
#    (the 12 and 20 MiB files go up as multipart); then adds a few objects with user metadata,
#    Content-Type, Cache-Control, a storage class and tags with the AWS CLI, and tags two of
#    ferry's objects;
# 4. `ferry sync ra:demo-src rb:demo-dst` (config file with remotes ra / rb), a second sync
#    that finds nothing to do, and a third one with --json;
# 5. checks region B with the AWS CLI: same object count, metadata, tags and storage class;
# 6. replication: versioned buckets in both regions, a rule file, a few objects with several
#    versions and a delete marker, `ferry replicate`, the AWS CLI listing the versions at B in
#    order, `ferry replicate status` and its per-object report (a rerun's rows: skipped);
# 7. compressed transport: `ferry sync --compress --staging` of the same source into a second
#    bucket of region B through a staging prefix there (few archives cross instead of every
#    object), the bytes that crossed and the ratio, and the AWS CLI's counts;
# 8. `ferry cache warm` of two prefixes into a cache bucket of region B with a TTL, twice (the
#    second renews, copies nothing), then `ferry cache expire`;
# 9. `ferry backup` of the source into archives kept in region B, and `ferry restore` of one
#    object by ranged reads of its frames;
# 10. `ferry serve`: continuous replication of a versioned bucket of region A to region B; RGW's
#    bucket notifications (a topic and the bucket's configuration made by `ferry events setup`)
#    push to ferry's /events, and objects written to A appear in B within seconds (the events
#    counted in /metrics);
# 11. a copy of five keys from a key list (`--files-from`: only those looked up), an S3 Inventory
#    of the source written in the AWS layout and read back with `ferry inventory ls` (checksums
#    checked), and a sync pointed at a mistyped prefix that `--max-delete 10%` stops before its
#    first delete (exit 2, nothing deleted); a sync driven by that inventory (no listing of the
#    source) with its per-object report;
# 12. `ferry move` of an "inbox" prefix of region A into region B: each object deleted from the
#    source only once its copy is proved by a checksum, with --max-delete and a per-object report;
# 13. Azure Blob Storage (Azurite) and Google Cloud Storage (firebase-tools' storage emulator),
#    both from npm, started on loopback: region A -> Azure -> GCS with ferry's own clients, and a
#    verify of GCS against region A.
# The gateways stay up at the end (it prints how to stop them).
#
# Environment: DEMO_DIR (default /tmp/ferry-demo: sample folder + ferry.toml),
#   FERRY_BIN (use this binary, skip the build), RGW_DIR / RGW_PORT / ... (scripts/rgw-start.sh;
#   on a machine where another pair already runs, e.g. RGW_DIR=/tmp/s3-rgw to reuse it),
#   DEMO_SRC_BUCKET / DEMO_DST_BUCKET (default demo-src / demo-dst; both are emptied first),
#   DEMO_REP_A / DEMO_REP_B (default demo-rep-a / demo-rep-b: the versioned buckets of step 6),
#   DEMO_Z_BUCKET / DEMO_STAGING_BUCKET (default demo-dst-z / demo-staging: step 7),
#   DEMO_LIST_BUCKET (default demo-list: step 11), DEMO_MOVE_BUCKET (default demo-move: step 12).
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"

DEMO_DIR=${DEMO_DIR:-/tmp/ferry-demo}
SRC_BUCKET=${DEMO_SRC_BUCKET:-demo-src}
DST_BUCKET=${DEMO_DST_BUCKET:-demo-dst}
# the default threshold is larger than any sample file; a lower one shows multipart copies
MP_FLAGS=(--multipart-threshold 8MiB --part-size 8MiB)

log() { ferry_log demo "$@"; }
# section headings and the commands being run go to stdout: they are the demo
title() { printf '\n=== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

# ------------------------------------------------------------------ 1. deps + build
title "1. dependencies and build"
bash scripts/install-deps.sh demo
if [ -n "${FERRY_BIN:-}" ]; then
  log "using FERRY_BIN=$FERRY_BIN (no build)"
else
  FERRY_BIN=$(build_release_ferry) || { log "ERROR: the build of ferry failed"; exit 1; }
fi
[ -x "$FERRY_BIN" ] || { log "ERROR: no ferry binary at $FERRY_BIN"; exit 1; }
"$FERRY_BIN" --version

# ------------------------------------------------------------------ 2. gateways
title "2. two RGW gateways (region A, region B)"
rgw_up
log "region A: $S3_ENDPOINT ($S3_REGION)   region B: $S3_ENDPOINT_B ($S3_REGION_B)"

# ------------------------------------------------------------------ 3. sample data
title "3. sample source folder -> ra:$SRC_BUCKET"
SRC=$DEMO_DIR/src
mkdir -p "$DEMO_DIR"
rm -rf "$SRC"
mkdir -p "$SRC"

# rnd FILE BYTES: random (incompressible) content
rnd() { mkdir -p "$(dirname "$1")"; head -c "$2" /dev/urandom > "$1"; }
# txt FILE LINES: text content (compressible, human-readable)
txt() {
  local i
  mkdir -p "$(dirname "$1")"
  for ((i = 1; i <= $2; i++)); do printf '%s line %d of %s\n' "$NOW" "$i" "${1##*/}"; done > "$1"
}
NOW=$(date -u +%FT%TZ)

# 144 "photos", 20-300 KiB, in year/month prefixes
for m in 01 02 03 04 05 06 07 08 09 10 11 12; do
  for n in $(seq 1 12); do
    rnd "$SRC/photos/2024/$m/IMG_$(printf '%02d%02d' "${m#0}" "$n").jpg" $(( (RANDOM % 280 + 20) * 1024 ))
  done
done
# 90 small text logs in daily prefixes
for d in $(seq -w 1 30); do
  for n in 1 2 3; do txt "$SRC/logs/app/2024-06-$d/server-$n.log" $((RANDOM % 60 + 5)); done
done
# 40 small JSON documents
for n in $(seq -w 1 40); do
  mkdir -p "$SRC/data"
  printf '{"shard": %d, "items": [%s]}\n' "$((10#$n))" "$(seq -s, 1 $((RANDOM % 50 + 1)))" > "$SRC/data/shard-$n.json"
done
# awkward keys: spaces, unicode, +, ~, =, %, a deep path, a dot file
txt "$SRC/docs/reports/Q1 summary 2024.txt" 40
rnd "$SRC/docs/reports/annual report (final).pdf" $((1024 * 1024))
txt "$SRC/docs/notes with  two spaces.md" 10
txt "$SRC/données/café ☕.txt" 8
txt "$SRC/日本語/ファイル 1.txt" 8
txt "$SRC/emoji/🚀 launch plan.md" 12
txt "$SRC/ünïcödé/straße.csv" 20
txt "$SRC/misc/a+b=c.txt" 3
txt "$SRC/misc/tilde~file.txt" 3
txt "$SRC/misc/percent%20literal.txt" 3
txt "$SRC/misc/.hidden" 1
txt "$SRC/a/b/c/d/e/f/g/deep.txt" 2
# empty objects
mkdir -p "$SRC/empty"
: > "$SRC/empty/zero-bytes.dat"
: > "$SRC/empty/also empty.txt"
# larger objects; the 12 and 20 MiB ones exceed the 8 MiB multipart threshold used here
rnd "$SRC/media/audio-6MiB.bin" $((6 * 1024 * 1024))
rnd "$SRC/media/clip-12MiB.mov" $((12 * 1024 * 1024))
rnd "$SRC/media/video-20MiB.bin" $((20 * 1024 * 1024))
log "sample folder: $(find "$SRC" -type f | wc -l) files, $(du -sh "$SRC" | cut -f1) in $SRC"

# config: two remotes; the keys stay in environment variables the file names
CONFIG=$DEMO_DIR/ferry.toml
write_ferry_config "$CONFIG"
export_ferry_keys
FERRY=("$FERRY_BIN" --config "$CONFIG")
printf '%s:\n' "$CONFIG"
sed 's/^/    /' "$CONFIG"

# start from empty buckets so the demo can be run again
drop_bucket a "$SRC_BUCKET"
drop_bucket b "$DST_BUCKET"
show "${FERRY[@]}" mb "ra:$SRC_BUCKET"
show "${FERRY[@]}" mb "rb:$DST_BUCKET"
show "${FERRY[@]}" cp "$SRC" "ra:$SRC_BUCKET" "${MP_FLAGS[@]}"

# what a folder cannot carry: metadata, content types, tags, storage classes (AWS CLI)
printf '{"report": "demo", "rows": 3}\n' > "$DEMO_DIR/report.json"
printf '<!doctype html><title>ferry demo</title><p>hello</p>\n' > "$DEMO_DIR/index.html"
head -c $((256 * 1024)) /dev/urandom > "$DEMO_DIR/archive.bin"
aws_a s3api put-object --bucket "$SRC_BUCKET" --key meta/report.json --body "$DEMO_DIR/report.json" \
  --content-type application/json --cache-control max-age=60 \
  --metadata owner=demo,project=ferry --tagging 'team=storage&env=demo' >/dev/null
aws_a s3api put-object --bucket "$SRC_BUCKET" --key meta/index.html --body "$DEMO_DIR/index.html" \
  --content-type 'text/html; charset=utf-8' --content-disposition inline \
  --metadata generator=demo.sh >/dev/null
aws_a s3api put-object --bucket "$SRC_BUCKET" --key "meta/cold archive.bin" --body "$DEMO_DIR/archive.bin" \
  --storage-class STANDARD_IA --tagging 'tier=cold' >/dev/null
aws_a s3api put-object-tagging --bucket "$SRC_BUCKET" --key photos/2024/01/IMG_0101.jpg \
  --tagging 'TagSet=[{Key=camera,Value=x100},{Key=album,Value=winter}]'
aws_a s3api put-object-tagging --bucket "$SRC_BUCKET" --key "données/café ☕.txt" \
  --tagging 'TagSet=[{Key=lang,Value=fr}]'
log "added 3 objects with metadata/content-type/storage class/tags, tagged 2 more"
aws_a s3 ls --recursive --summarize "s3://$SRC_BUCKET" | tail -n 2

# ------------------------------------------------------------------ 4. sync A -> B
title "4. ferry sync, region A -> region B"
show "${FERRY[@]}" sync "ra:$SRC_BUCKET" "rb:$DST_BUCKET" "${MP_FLAGS[@]}"
title "   again: nothing changed, so nothing is copied"
show "${FERRY[@]}" sync "ra:$SRC_BUCKET" "rb:$DST_BUCKET" "${MP_FLAGS[@]}"
title "   and once more with --json (machine-readable summary)"
printf '$ %s\n' "${FERRY[*]} sync ra:$SRC_BUCKET rb:$DST_BUCKET ${MP_FLAGS[*]} --json"
summary=$("${FERRY[@]}" sync "ra:$SRC_BUCKET" "rb:$DST_BUCKET" "${MP_FLAGS[@]}" --json)
printf '%s\n' "$summary"

# ------------------------------------------------------------------ 5. check B
title "5. region B, seen by the AWS CLI"
n_src=$(count_objects a "$SRC_BUCKET")
n_dst=$(count_objects b "$DST_BUCKET")
printf 'objects: %s in ra:%s, %s in rb:%s\n' "$n_src" "$SRC_BUCKET" "$n_dst" "$DST_BUCKET"
show aws_b s3api head-object --bucket "$DST_BUCKET" --key meta/report.json \
  --query '{ContentType: ContentType, CacheControl: CacheControl, Metadata: Metadata, ETag: ETag}'
show aws_b s3api get-object-tagging --bucket "$DST_BUCKET" --key meta/report.json --query TagSet
show aws_b s3api head-object --bucket "$DST_BUCKET" --key "meta/cold archive.bin" \
  --query '{StorageClass: StorageClass, ContentLength: ContentLength}'
show aws_b s3api get-object-tagging --bucket "$DST_BUCKET" --key "données/café ☕.txt" --query TagSet
show aws_b s3api head-object --bucket "$DST_BUCKET" --key media/video-20MiB.bin \
  --query '{ContentLength: ContentLength, ETag: ETag}'

# ------------------------------------------------------------------ 6. replication
title "6. ferry replicate: every version, in order, region A -> region B"
REP_A=${DEMO_REP_A:-demo-rep-a}
REP_B=${DEMO_REP_B:-demo-rep-b}
# drop_versioned a|b NAME: a versioned bucket and every version and delete marker in it
drop_versioned() {
  local side=$1 name=$2
  "aws_$side" s3api head-bucket --bucket "$name" >/dev/null 2>&1 || return 0
  "aws_$side" s3api list-object-versions --bucket "$name" --output json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for v in d.get("Versions", []) + d.get("DeleteMarkers", []):
    print(v["Key"] + "\t" + v["VersionId"])' | while IFS=$'\t' read -r key vid; do
    "aws_$side" s3api delete-object --bucket "$name" --key "$key" --version-id="$vid" >/dev/null
  done
  "aws_$side" s3api delete-bucket --bucket "$name" >/dev/null 2>&1 || true
}
drop_versioned a "$REP_A"
drop_versioned b "$REP_B"
make_bucket a "$REP_A"
make_bucket b "$REP_B"
show aws_a s3api put-bucket-versioning --bucket "$REP_A" --versioning-configuration Status=Enabled
show aws_b s3api put-bucket-versioning --bucket "$REP_B" --versioning-configuration Status=Enabled
for n in 1 2 3; do
  printf 'price list, edition %d\n' "$n" > "$DEMO_DIR/prices.txt"
  aws_a s3api put-object --bucket "$REP_A" --key "docs/prices 2024.txt" --body "$DEMO_DIR/prices.txt" >/dev/null
done
printf 'draft\n' > "$DEMO_DIR/draft.txt"
aws_a s3api put-object --bucket "$REP_A" --key docs/draft.txt --body "$DEMO_DIR/draft.txt" >/dev/null
show aws_a s3api delete-object --bucket "$REP_A" --key docs/draft.txt
aws_a s3api put-object --bucket "$REP_A" --key "tmp/scratch.bin" --body "$DEMO_DIR/archive.bin" >/dev/null
log "ra:$REP_A: docs/prices 2024.txt x3 versions, docs/draft.txt + delete marker, tmp/scratch.bin"
REP_CONFIG=$DEMO_DIR/replication.toml
{
  cat "$CONFIG"
  cat <<TOML

[[replication.rules]]
id = "docs-to-b"
priority = 1
filter = { prefix = "docs/" }
destinations = [ { location = "rb:$REP_B", storage_class = "STANDARD_IA" } ]
delete_markers = true
versions = "all"
TOML
} > "$REP_CONFIG"
printf 'rules (%s):\n' "$REP_CONFIG"
sed -n '/replication.rules/,$p' "$REP_CONFIG" | sed 's/^/    /'
REP_STATE=$DEMO_DIR/replication.db
rm -f "$REP_STATE" "$REP_STATE"-wal "$REP_STATE"-shm
REP=("$FERRY_BIN" --config "$REP_CONFIG")
show "${REP[@]}" replicate "ra:$REP_A" --dry-run
# --report: one row per (version, rule, destination) of the status store, CSV parts and a
# summary.json, as cp/sync/verify write it
rm -rf "$DEMO_DIR/replication-report" "$DEMO_DIR/replication-report-again"
show "${REP[@]}" replicate "ra:$REP_A" --state "$REP_STATE" --report "$DEMO_DIR/replication-report"
title "   again: every version is COMPLETED, so only the listing is read (its report: skipped)"
show "${REP[@]}" replicate "ra:$REP_A" --state "$REP_STATE" \
  --report "$DEMO_DIR/replication-report-again" --report-level all
title "   region B: the versions in the order they were written at A (newest first)"
show aws_b s3api list-object-versions --bucket "$REP_B" \
  --query '{Versions: Versions[].[Key, VersionId, IsLatest, Size], DeleteMarkers: DeleteMarkers[].[Key, VersionId]}' \
  --output json
show aws_b s3api head-object --bucket "$REP_B" --key "docs/prices 2024.txt" \
  --query '{StorageClass: StorageClass, Metadata: Metadata}'
show "${REP[@]}" replicate status --state "$REP_STATE"
for rep_dir in replication-report replication-report-again; do
  part=$(ls "$DEMO_DIR/$rep_dir"/*.csv 2> /dev/null | head -n 1)
  if [ -n "$part" ]; then
    printf '$ head -n 3 %s\n' "$part"; head -n 3 "$part"
  fi
done
rep_versions=$(aws_b s3api list-object-versions --bucket "$REP_B" --query 'length(Versions)' --output text)
rep_markers=$(aws_b s3api list-object-versions --bucket "$REP_B" --query 'length(DeleteMarkers)' --output text)

# ------------------------------------------------------------------ 7. compressed transport
title "7. ferry sync --compress: archives cross to region B, unpacked there"
Z_BUCKET=${DEMO_Z_BUCKET:-demo-dst-z}
STAGING=${DEMO_STAGING_BUCKET:-demo-staging}
drop_bucket b "$Z_BUCKET"
drop_bucket b "$STAGING"
make_bucket b "$Z_BUCKET"
make_bucket b "$STAGING"
printf '$ %s\n' "${FERRY[*]} sync ra:$SRC_BUCKET rb:$Z_BUCKET --compress --staging rb:$STAGING/ferry --json"
zsummary=$("${FERRY[@]}" sync "ra:$SRC_BUCKET" "rb:$Z_BUCKET" --compress --staging "rb:$STAGING/ferry" --json)
python3 -c '
import json, sys
t = json.loads(sys.argv[1]).get("transport", {})
print("archives %s, entries %s: %s bytes in, %s bytes crossed to region B (ratio %.2f), %s checksums verified"
      % (t.get("archives"), t.get("entries"), t.get("bytes_in"), t.get("bytes_wire"),
         t.get("ratio", 0), t.get("checksums_verified")))' "$zsummary"
log "(most sample files are random bytes, which are stored raw; text, CSV and JSON shrink 2-4x)"
n_z=$(count_objects b "$Z_BUCKET")
n_staged=$(count_objects b "$STAGING")
printf 'objects: %s in rb:%s (as in ra:%s: %s); left on staging: %s\n' "$n_z" "$Z_BUCKET" \
  "$SRC_BUCKET" "$n_src" "$n_staged"
show aws_b s3api head-object --bucket "$Z_BUCKET" --key meta/report.json \
  --query '{ContentType: ContentType, CacheControl: CacheControl, Metadata: Metadata}'

# ------------------------------------------------------------------ 8. cache warm
title "8. ferry cache warm: fill a cache bucket in region B for a day, twice"
C_BUCKET=${DEMO_CACHE_BUCKET:-demo-cache}
CACHE_STATE=$DEMO_DIR/cache.db
drop_bucket b "$C_BUCKET"
make_bucket b "$C_BUCKET"
rm -f "$CACHE_STATE"
WARM=("${FERRY[@]}" cache warm "ra:$SRC_BUCKET" --prefix data/ --prefix docs/ --cache "rb:$C_BUCKET"
      --ttl 24h --state "$CACHE_STATE")
show "${WARM[@]}"
log "the same request again: everything under both prefixes is cached and unchanged (renewed, no copy)"
printf '$ %s --json\n' "${WARM[*]}"
warm2=$("${WARM[@]}" --json)
cache_copied=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get("copied"))' "$warm2")
printf 'second warm: %s copied\n' "$cache_copied"
show "${FERRY[@]}" cache expire --cache "rb:$C_BUCKET" --state "$CACHE_STATE"
n_cached=$(count_objects b "$C_BUCKET")
n_cache_src=$(find "$SRC/data" "$SRC/docs" -type f | wc -l)

# ------------------------------------------------------------------ 9. backup and restore
title "9. ferry backup: archives kept in region B; one object restored by ranged reads"
BK_BUCKET=${DEMO_BACKUP_BUCKET:-demo-backup}
BK_STATE=$DEMO_DIR/backup.db
RESTORED=$DEMO_DIR/restored
drop_bucket b "$BK_BUCKET"
make_bucket b "$BK_BUCKET"
rm -rf "$BK_STATE" "$RESTORED"
show "${FERRY[@]}" backup "ra:$SRC_BUCKET" "rb:$BK_BUCKET/ferry" --state "$BK_STATE"
show "${FERRY[@]}" restore "rb:$BK_BUCKET/ferry" "docs/reports/Q1 summary 2024.txt" \
  --to "$RESTORED" --state "$BK_STATE"
restored_ok=0
cmp -s "$SRC/docs/reports/Q1 summary 2024.txt" "$RESTORED/docs/reports/Q1 summary 2024.txt" \
  && restored_ok=1
printf 'restored file identical to the original: %s\n' "$([ $restored_ok = 1 ] && echo yes || echo NO)"

# ------------------------------------------------------------------ 10. ferry serve
title "10. ferry serve: objects written to region A reach region B from their events"
LIVE_A=${DEMO_LIVE_A:-demo-live-a}
LIVE_B=${DEMO_LIVE_B:-demo-live-b}
purge_bucket a "$LIVE_A" single
purge_bucket b "$LIVE_B"
for side in a b; do
  bucket=$LIVE_A; [ $side = b ] && bucket=$LIVE_B
  make_bucket $side "$bucket"
  "aws_$side" s3api put-bucket-versioning --bucket "$bucket" \
    --versioning-configuration Status=Enabled
done
SERVE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SERVE_URL=http://127.0.0.1:$SERVE_PORT
export FERRY_EVENTS_TOKEN=demo-$RANDOM$RANDOM
SERVE_CONFIG=$DEMO_DIR/serve.toml
{
  cat "$CONFIG"
  cat <<TOML

[[replication.rules]]
id = "live"
destinations = ["rb:$LIVE_B"]
delete_markers = true

[serve]
listen = "127.0.0.1:$SERVE_PORT"
replicate = ["ra:$LIVE_A"]
scan_interval = "1h"
token_env = "FERRY_EVENTS_TOKEN"
TOML
} > "$SERVE_CONFIG"
sed -n '/replication.rules/,$p' "$SERVE_CONFIG" | sed 's/^/    /'
SERVE_STATE=$DEMO_DIR/serve.db
rm -f "$SERVE_STATE" "$SERVE_STATE"-wal "$SERVE_STATE"-shm
printf '$ %s &\n' "$FERRY_BIN --config $SERVE_CONFIG serve --state $SERVE_STATE"
"$FERRY_BIN" --config "$SERVE_CONFIG" serve --state "$SERVE_STATE" 2> "$DEMO_DIR/serve.log" &
SERVE_PID=$!
for _ in $(seq 1 100); do curl -sf "$SERVE_URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
log "RGW topic pushing to $SERVE_URL/events (the token as its opaqueData), and A's notifications"
show "${FERRY[@]}" events setup "ra:$LIVE_A" --endpoint "$SERVE_URL/events" \
  --token-env FERRY_EVENTS_TOKEN --no-persistent
show "${FERRY[@]}" events show "ra:$LIVE_A"
show "${FERRY[@]}" cp "$SRC/photos/2024/01" "ra:$LIVE_A/photos"
n_live_src=$(find "$SRC/photos/2024/01" -type f | wc -l)
written=$(date +%s.%N)
n_live=0
for _ in $(seq 1 300); do
  n_live=$(count_objects b "$LIVE_B")
  [ "$n_live" = "$n_live_src" ] && break
  sleep 0.2
done
printf '%s of %s objects at region B %.1f s after ferry cp wrote them to region A\n' "$n_live" \
  "$n_live_src" "$(python3 -c "print($(date +%s.%N) - $written)")"
printf '$ curl -s %s/metrics | grep ferry_events\n' "$SERVE_URL"
curl -s "$SERVE_URL/metrics" | grep '^ferry_events' || true
# the latency histogram (source write -> replica recorded), as the RTC-style SLA reads it
printf '$ curl -s %s/metrics | grep ferry_replication_latency_seconds_bucket\n' "$SERVE_URL"
curl -s "$SERVE_URL/metrics" | awk '
  /^ferry_replication_latency_seconds_bucket/ {
    match($0, /[{,]le="[^"]*"/); le = substr($0, RSTART + 5, RLENGTH - 6)
    n[le] += $NF; if (!(le in seen)) { seen[le] = 1; order[++k] = le }
  }
  END {
    total = n["+Inf"]; if (total == 0) { print "  (no replication recorded yet)"; exit }
    for (i = 1; i <= k; i++) {
      le = order[i]; if (n[le] > prev) printf "  <= %5s s: %d\n", le, n[le]
      prev = n[le]
      if (!p50 && n[le] >= total * 0.5) p50 = le
      if (!p99 && n[le] >= total * 0.99) p99 = le
    }
    printf "  %d versions replicated: p50 <= %s s, p99 <= %s s\n", total, p50, p99
  }' || true
printf '$ curl -s %s/api/status   # the dashboard at %s/ reads it, and /api/metrics\n' \
  "$SERVE_URL" "$SERVE_URL"
curl -s "$SERVE_URL/api/status" | head -n 12 || true
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || true
log "ferry serve stopped (SIGTERM); run it again and it resumes its continuous run"

# ------------------------------------------------------------------ 11. lists, inventories, guards
title "11. a run from a key list, an S3 Inventory read, and a guarded sync"
LIST_BUCKET=${DEMO_LIST_BUCKET:-demo-list}
drop_bucket b "$LIST_BUCKET"
make_bucket b "$LIST_BUCKET"
# a list of keys to copy again (rclone's --files-from form: one key a line, # comments), e.g.
# the failures of an earlier run: only these keys are looked up and copied, nothing is listed
KEYS=$DEMO_DIR/keys.txt
{ echo "# keys to copy again"; (cd "$SRC" && find photos -type f | LC_ALL=C sort | head -n 5); } > "$KEYS"
sed 's/^/    /' "$KEYS"
show "${FERRY[@]}" cp "ra:$SRC_BUCKET" "rb:$LIST_BUCKET" --files-from "$KEYS" --no-state --no-progress
n_list=$(count_objects b "$LIST_BUCKET")
# an S3 Inventory of the source in the AWS layout (manifest.json, its checksum, CSV.gz files with
# their MD5s), as S3 writes one daily, kept in region B and read back with every checksum checked
INV_DIR=$DEMO_DIR/inventory
rm -rf "$INV_DIR"
"${FERRY[@]}" ls "ra:$SRC_BUCKET" --json > "$DEMO_DIR/src-listing.json"
python3 tests/tools/make_inventory.py --source-bucket "$SRC_BUCKET" --out "$INV_DIR" \
  --ferry-ls-json "$DEMO_DIR/src-listing.json" --rows-per-file 100 > /dev/null
"${FERRY[@]}" cp "$INV_DIR" "rb:$LIST_BUCKET" --no-state --no-progress > /dev/null 2>&1
printf '$ %s\n' "${FERRY[*]} inventory ls rb:$LIST_BUCKET/inventories/$SRC_BUCKET/daily | head -n 3"
"${FERRY[@]}" inventory ls "rb:$LIST_BUCKET/inventories/$SRC_BUCKET/daily" 2> "$DEMO_DIR/inv.err" \
  > "$DEMO_DIR/inv.txt" || true
head -n 3 "$DEMO_DIR/inv.txt"
sed 's/^/  /' "$DEMO_DIR/inv.err"
n_inv=$(wc -l < "$DEMO_DIR/inv.txt")
# the same inventory drives a sync in place of a listing: no LIST of the source, the rows say
# what exists; each key is read (HEAD) at the source before it is copied, since an inventory is
# up to a day old; --report writes one row per object (CSV parts and a summary)
INV_REPORT=$DEMO_DIR/inventory-report
rm -rf "$INV_REPORT"
show "${FERRY[@]}" sync "ra:$SRC_BUCKET" "rb:$LIST_BUCKET/from-inventory/" \
  --source-inventory "rb:$LIST_BUCKET/inventories/$SRC_BUCKET/daily" --report "$INV_REPORT" \
  --no-state --no-progress || true
n_inv_copied=$(cat "$INV_REPORT"/*.csv 2> /dev/null | grep -c ',copied,' || true)
part=$(ls "$INV_REPORT"/*.csv 2> /dev/null | head -n 1)
if [ -n "$part" ]; then
  printf '$ head -n 3 %s\n' "$part"; head -n 3 "$part"
fi
echo "the report has $n_inv_copied copied rows for $n_inv inventory rows"
# a sync pointed at a mistyped prefix (photo/, which holds nothing) would delete all of region B's
# copy: --max-delete stops it before the first delete (exit 2, one line why): nothing is deleted
n_before=$(count_objects b "$DST_BUCKET")
printf '$ %s\n' "${FERRY[*]} sync ra:$SRC_BUCKET/photo/ rb:$DST_BUCKET --delete --max-delete 10% --no-state"
guard_rc=0
"${FERRY[@]}" sync "ra:$SRC_BUCKET/photo/" "rb:$DST_BUCKET" --delete --max-delete 10% \
  --no-state --no-progress > /dev/null 2> "$DEMO_DIR/guard.err" || guard_rc=$?
sed 's/^/  /' "$DEMO_DIR/guard.err" | grep -v '^  *$' | tail -n 3
n_after=$(count_objects b "$DST_BUCKET")
echo "exit status $guard_rc; region B's copy: $n_before objects before, $n_after after"

# ------------------------------------------------------------------ 12. a guarded move
title "12. a move: copied, proved by a checksum, then deleted from the source, with its report"
# the daily logs land in an "inbox" prefix of region A; `ferry move` copies them to region B's
# archive and deletes each source object only once its copy is proved (a checksum), in batches,
# after looking at the source again; --max-delete guards those deletes; --report writes a row
# per object (the copy, then the delete from the source)
MOVE_BUCKET=${DEMO_MOVE_BUCKET:-demo-move}
drop_bucket a "$MOVE_BUCKET"
make_bucket a "$MOVE_BUCKET"
drop_bucket b "$MOVE_BUCKET"
make_bucket b "$MOVE_BUCKET"
"${FERRY[@]}" cp "$SRC/logs" "ra:$MOVE_BUCKET/inbox/" --no-state --no-progress > /dev/null
n_inbox=$(count_objects a "$MOVE_BUCKET")
REPORT=$DEMO_DIR/move-report
rm -rf "$REPORT"
show "${FERRY[@]}" move "ra:$MOVE_BUCKET/inbox/" "rb:$MOVE_BUCKET/archive/" --max-delete 100 \
  --report "$REPORT" --report-level all --no-progress || true
n_left=$(count_objects a "$MOVE_BUCKET")
n_moved=$(count_objects b "$MOVE_BUCKET")
echo "region A's inbox: $n_inbox objects before, $n_left after; region B's archive: $n_moved"
part=$(ls "$REPORT"/*.csv 2> /dev/null | head -n 1)
if [ -n "$part" ]; then
  printf '$ head -n 3 %s\n' "$part"; head -n 3 "$part"
fi
move_rows=$(cat "$REPORT"/*.csv 2> /dev/null | grep -c ',delete-source,' || true)

# ------------------------------------------------------------------ 13. Azure Blob and GCS
title "13. beyond S3: region A -> Azure Blob (Azurite) -> Google Cloud Storage (its emulator)"
# both emulators come from the npm registry (the first start installs them: a few minutes) and
# listen on loopback; ferry talks to them with its own Azure (Shared Key) and GCS (JSON API)
# clients, not through an S3 gateway
clouds_ok=0
if eval "$(bash scripts/azurite-start.sh)" && eval "$(bash scripts/gcs-emulator-start.sh)"; then
  CLOUD_C=demo-$RANDOM
  python3 tests/tools/azure_admin.py "$FERRY_TEST_AZURE_ENDPOINT" "$FERRY_TEST_AZURE_ACCOUNT" \
    "$FERRY_TEST_AZURE_KEY" mkcontainer "$CLOUD_C" > /dev/null
  export DEMO_AZ_KEY=$FERRY_TEST_AZURE_KEY
  cat >> "$CONFIG" <<TOML

[remotes.az]
type = "azure"
endpoint = "$FERRY_TEST_AZURE_ENDPOINT"
account = "$FERRY_TEST_AZURE_ACCOUNT"
account_key_env = "DEMO_AZ_KEY"

[remotes.gcs]
type = "gcs"
endpoint = "$FERRY_TEST_GCS_ENDPOINT"
anonymous = true
TOML
  show "${FERRY[@]}" sync "ra:$SRC_BUCKET/photos/" "az:$CLOUD_C/photos/" --no-state --no-progress &&
    show "${FERRY[@]}" sync "az:$CLOUD_C/photos/" "gcs:$CLOUD_C/photos/" --no-state --no-progress &&
    printf '$ %s\n' "${FERRY[*]} verify ra:$SRC_BUCKET/photos/ gcs:$CLOUD_C/photos/ | grep -c '^= '" &&
    "${FERRY[@]}" verify "ra:$SRC_BUCKET/photos/" "gcs:$CLOUD_C/photos/" > "$DEMO_DIR/clouds.txt" &&
    grep -c '^= ' "$DEMO_DIR/clouds.txt" && clouds_ok=1
  n_az=$("${FERRY[@]}" ls "az:$CLOUD_C/photos/" | wc -l)
  n_gcs=$("${FERRY[@]}" ls "gcs:$CLOUD_C/photos/" | wc -l)
  echo "Azure holds $n_az objects, GCS $n_gcs; the source's photos/ $(find "$SRC/photos" -type f | wc -l)"
fi

title "done"
status=0
if [ "$clouds_ok" != 1 ]; then
  log "ERROR: the Azure -> GCS leg failed (or its emulators did not start)"
  status=1
fi
if [ "$n_inv_copied" != "$n_inv" ]; then
  log "ERROR: the inventory-driven sync's report has $n_inv_copied copied rows, not $n_inv"
  status=1
fi
if [ "$n_live" != "$n_live_src" ]; then
  log "ERROR: ferry serve replicated $n_live of $n_live_src objects written to region A"
  status=1
fi
if [ "$rep_versions $rep_markers" != "4 1" ]; then
  log "ERROR: region B holds $rep_versions versions and $rep_markers delete markers, not 4 and 1"
  status=1
fi
if [ "$n_src" != "$n_dst" ]; then
  log "ERROR: object counts differ"
  status=1
fi
if [ "$n_src" != "$n_z" ] || [ "$n_staged" != 0 ]; then
  log "ERROR: the compressed sync left $n_z objects (not $n_src) and $n_staged on staging"
  status=1
fi
if [ "$n_cached" != "$n_cache_src" ] || [ "$cache_copied" != 0 ]; then
  log "ERROR: the cache holds $n_cached objects (not $n_cache_src) or the second warm copied $cache_copied"
  status=1
fi
if [ "$restored_ok" != 1 ]; then
  log "ERROR: the restored object differs from the original"
  status=1
fi
if [ "$n_list" != 5 ] || [ "$n_inv" != "$n_src" ]; then
  log "ERROR: the key list copied $n_list objects (not 5) or the inventory has $n_inv rows (not $n_src)"
  status=1
fi
if [ "$guard_rc" != 2 ] || [ "$n_before" != "$n_after" ]; then
  log "ERROR: the guarded sync exited $guard_rc (want 2), region B went from $n_before to $n_after objects"
  status=1
fi
if [ "$n_left" != 0 ] || [ "$n_moved" != "$n_inbox" ] || [ "$move_rows" != "$n_inbox" ]; then
  log "ERROR: the move left $n_left objects on the source, $n_moved of $n_inbox on the destination, $move_rows delete rows"
  status=1
fi
# the third sync had nothing to do (the JSON is ferry's, printed with one key per line)
if ! grep -Eq '"objects_copied": *0,?$' <<< "$summary"; then
  log "ERROR: the no-change sync copied something"
  status=1
fi
cat <<EOF
The gateways are still running. Look around with, e.g.:
  FERRY_RA_KEY=$S3_ACCESS_KEY FERRY_RA_SECRET=$S3_SECRET_KEY FERRY_RB_KEY=$S3_ACCESS_KEY_B FERRY_RB_SECRET=$S3_SECRET_KEY_B \\
    $FERRY_BIN --config $CONFIG ls rb:$DST_BUCKET
Stop them (and delete their data) with:
  RGW_DIR=${RGW_DIR:-/tmp/ferry-rgw} bash scripts/rgw-stop.sh
and the Azure and GCS emulators (their data lives in memory) with:
  kill \$(cat ${AZURITE_DIR:-/tmp/ferry-azurite}/azurite.pid) \$(cat ${GCS_EMULATOR_DIR:-/tmp/ferry-gcs-emulator}/gcs-emulator.pid)
EOF
if [ "$RGW_STARTED" = 0 ]; then
  echo "(this demo reused an RGW pair that was already running: stop it only if it is yours)"
fi
exit $status
