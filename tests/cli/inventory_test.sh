#!/usr/bin/env bash
# ferry inventory ls against S3 Inventory reports on RGW: a bucket's objects (keys with spaces,
# '+', '%', unicode), an inventory of it written in the AWS layout by tests/tools/make_inventory.py
# (CSV.gz files, manifest.json, manifest.checksum, an older run beside the newest), uploaded to
# another bucket and read back through ferry: the rows are the bucket's objects. Then damaged
# copies, each refused with one line and a non-zero exit: a data file whose MD5 differs, a
# manifest changed after its checksum, a manifest that is not JSON, a Parquet inventory, a row
# whose key has a bad %-escape.
source "$(dirname "$0")/testlib.bash"
export HOME=$WORK/home  # this test's own HOME (no config or state of the machine's)
mkdir -p "$HOME" "$WORK/src/dir/sub"
MAKE_INVENTORY=$FERRY_TEST_TOOLS/make_inventory.py

for i in $(seq 1 20); do head -c $((i * 97)) /dev/urandom > "$WORK/src/file$i.bin"; done
echo one > "$WORK/src/with space.txt"
echo two > "$WORK/src/a+b.txt"
echo three > "$WORK/src/pct%41.txt"
echo four > "$WORK/src/dir/sub/fête €.txt"
: > "$WORK/src/empty"
SRC=$(new_bucket ra)
INV=$(new_bucket ra)
check "source uploaded" ferry sync "$WORK/src" "ra:$SRC" --no-progress --no-state 2>/dev/null
ferry ls --json "ra:$SRC" > "$WORK/listing.json"
ferry ls "ra:$SRC" | sort > "$WORK/ls.txt"
check "  25 objects listed" [ "$(wc -l < "$WORK/listing.json")" = 25 ]

# inventory CONFIG ARGS...: writes an inventory of the listing as configuration CONFIG
inventory() {
  local config=$1; shift
  python3 "$MAKE_INVENTORY" --source-bucket "$SRC" --out "$WORK/inv" --config-id "$config" \
    --ferry-ls-json "$WORK/listing.json" --rows-per-file 6 "$@" > /dev/null
}
CONFIG_DIR=$WORK/inv/inventories/$SRC
inventory good
# an older run of the same configuration, of part of the bucket: never the one read
head -n 3 "$WORK/listing.json" > "$WORK/old.json"
python3 "$MAKE_INVENTORY" --source-bucket "$SRC" --out "$WORK/inv" --config-id good \
  --ferry-ls-json "$WORK/old.json" --timestamp 2026-11-20T00-00Z > /dev/null
check "the tool wrote 5 + 1 data files" [ "$(ls "$CONFIG_DIR/good/data" | wc -l)" = 6 ]
check "  and two runs" [ -f "$CONFIG_DIR/good/2026-11-20T00-00Z/manifest.checksum" ]

# manifest_edit CONFIG PYTHON [--rechecksum]: edits CONFIG's manifest (m is the dict); with
# --rechecksum, manifest.checksum is written again to match
manifest_edit() {
  python3 - "$CONFIG_DIR/$1/2026-11-27T00-00Z" "$2" "${3:-}" <<'PY'
import hashlib, json, sys
run, code, re = sys.argv[1], sys.argv[2], sys.argv[3]
m = json.load(open(run + '/manifest.json'))
exec(code)
text = m.encode() if isinstance(m, str) else json.dumps(m, indent=2).encode()
open(run + '/manifest.json', 'wb').write(text)
if re:
    open(run + '/manifest.checksum', 'w').write(hashlib.md5(text).hexdigest() + '\n')
PY
}
# a data file with one byte changed in its middle: same size, another MD5
inventory tampered-data
victim=$(ls "$CONFIG_DIR/tampered-data/data" | head -n 1)
python3 - "$CONFIG_DIR/tampered-data/data/$victim" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0xff
open(p, 'wb').write(b)
PY
inventory tampered-manifest
manifest_edit tampered-manifest "m['files'][0]['size'] += 1"
inventory not-json
manifest_edit not-json "m = json.dumps(m)[:-40]" --rechecksum
inventory parquet
manifest_edit parquet "m['fileFormat'] = 'Parquet'" --rechecksum
# a data file holding a row whose key has a bad %-escape, listed with its true size and MD5
inventory bad-row
python3 - "$CONFIG_DIR/bad-row" <<'PY'
import gzip, hashlib, json, os, sys
cfg = sys.argv[1]
run = cfg + '/2026-11-27T00-00Z'
m = json.load(open(run + '/manifest.json'))
f = m['files'][0]
path = os.path.join(cfg, 'data', os.path.basename(f['key']))
rows = gzip.decompress(open(path, 'rb').read()).decode().splitlines(True)
first = rows[0].split('","')
first[1] = 'bad%zzkey'
rows[0] = '","'.join(first)
body = gzip.compress(''.join(rows).encode(), mtime=0)
open(path, 'wb').write(body)
f['size'], f['MD5checksum'] = len(body), hashlib.md5(body).hexdigest()
text = json.dumps(m, indent=2).encode()
open(run + '/manifest.json', 'wb').write(text)
open(run + '/manifest.checksum', 'w').write(hashlib.md5(text).hexdigest() + '\n')
PY
# a versioned report (VersionId, IsLatest, IsDeleteMarker): two versions and a delete marker
cat > "$WORK/versions.json" <<'JSON'
{"key": "v key", "size": 4, "etag": "0123456789abcdef0123456789abcdef", "mtime_ns": 1795815125000000000, "storage_class": "", "version_id": "v2", "is_latest": true}
{"key": "v key", "size": 3, "etag": "fedcba9876543210fedcba9876543210", "mtime_ns": 1795815000000000000, "storage_class": "", "version_id": "v1", "is_latest": false}
{"key": "gone+x", "size": 0, "etag": "", "mtime_ns": 1795815125000000000, "storage_class": "", "version_id": "v9", "is_latest": true, "delete_marker": true}
JSON
python3 "$MAKE_INVENTORY" --source-bucket "$SRC" --out "$WORK/inv" --config-id versions \
  --ferry-ls-json "$WORK/versions.json" --versions > /dev/null
check "inventories uploaded" ferry sync "$WORK/inv" "ra:$INV" --no-progress --no-state 2>/dev/null

# The good inventory, by its configuration's prefix (the newest run) and by its manifest.
ferry inventory ls "ra:$INV/inventories/$SRC/good" > "$WORK/rows.txt" 2> "$WORK/summary" || true
check "rows printed as ferry ls prints the bucket's objects" diff <(sort "$WORK/rows.txt") "$WORK/ls.txt"
check "summary: source bucket, 5 files, 25 rows" \
  grep -q "^inventory of s3://$SRC made 2026-11-27T00:00:00Z: 5 files, 25 rows" "$WORK/summary"
check "  the newest run read" grep -q "2026-11-27T00-00Z/manifest.json" "$WORK/summary"
ferry inventory ls --json "ra:$INV/inventories/$SRC/good/2026-11-27T00-00Z/manifest.json" \
  > "$WORK/rows.json" 2>/dev/null || true
same_objects() {
  python3 - "$WORK/listing.json" "$WORK/rows.json" <<'PY'
import json, sys
def load(p, scale):
    return sorted((o['key'], o['size'], o['etag'], o['mtime_ns'] // scale, o['storage_class'])
                  for o in map(json.loads, open(p)))
want, got = load(sys.argv[1], 10**6), load(sys.argv[2], 10**6)
if want != got:
    print('  listing:', want[:3], '\n  inventory:', got[:3])
    sys.exit(1)
keys = {k for k, *_ in got}
for k in ('with space.txt', 'a+b.txt', 'pct%41.txt', 'dir/sub/fête €.txt'):
    if k not in keys:
        print('  missing', k); sys.exit(1)
PY
}
check "--json rows: the bucket's keys, sizes, ETags, times (ms), classes" same_objects
check "an older run named by its manifest is read as it is" \
  bash -c "'$FERRY_BIN' --config '$CONF' inventory ls 'ra:$INV/inventories/$SRC/good/2026-11-20T00-00Z/manifest.json' 2>/dev/null | wc -l | grep -qx 3"
check "the local copy reads the same" \
  diff <(ferry inventory ls "$CONFIG_DIR/good" 2>/dev/null | sort) "$WORK/ls.txt"

cat > "$WORK/versions.want" <<'TXT'
           4 2026-11-27T21:32:05Z 0123456789abcdef0123456789abcdef v2 L- v key
           3 2026-11-27T21:30:00Z fedcba9876543210fedcba9876543210 v1 -- v key
           0 2026-11-27T21:32:05Z - v9 LD gone+x
TXT
check "a versioned report: versions, latest and delete marker shown before the key" \
  diff <(ferry inventory ls "ra:$INV/inventories/$SRC/versions" 2>/dev/null) "$WORK/versions.want"

# Damaged inventories: one line, non-zero, no row of the damaged file.
check "a data file whose MD5 differs: exit 1" \
  expect_error 1 "$victim: MD5 [0-9a-f]*, the manifest's MD5checksum is" \
  ferry inventory ls "ra:$INV/inventories/$SRC/tampered-data"
check "a manifest changed after its checksum: exit 1" \
  expect_error 1 "manifest.json's MD5 is [0-9a-f]*, manifest.checksum says" \
  ferry inventory ls "ra:$INV/inventories/$SRC/tampered-manifest"
check "a manifest that is not JSON: exit 2" \
  expect_error 2 "manifest.json: manifest.json is not JSON" \
  ferry inventory ls "ra:$INV/inventories/$SRC/not-json"
check "a Parquet inventory refused naming CSV: exit 1" \
  expect_error 1 "the inventory is Parquet; ferry reads CSV inventories only" \
  ferry inventory ls "ra:$INV/inventories/$SRC/parquet"
check "a row with a bad key: file and row named, exit 2" \
  expect_error 2 "\.csv\.gz row 1: bad %-escape in key \"bad%zzkey\"" \
  ferry inventory ls "ra:$INV/inventories/$SRC/bad-row"
check "  no row printed (the bad row is its file's first)" [ ! -s "$WORK/out" ]
check "a prefix without runs: exit 1" \
  expect_error 1 "no inventory run here" ferry inventory ls "ra:$INV/inventories/$SRC"
finish
