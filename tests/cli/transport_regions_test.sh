#!/usr/bin/env bash
# One archive meant for two regions, unpacked without a shared state store:
# `ferry sync --compress --pack-only --unpack-region A,B` stages archives whose entries are
# meant for both; `ferry unpack --region A` writes them into A's destination and leaves a marker
# next to each archive; run again it finds its marker and writes nothing; `ferry unpack
# --region B` writes them into B's destination and, seeing both markers, deletes the archives
# and the markers. With a shared state store (`--state`), the pack makes one unpack job and one
# progress row per region: `ferry worker --role unpack --region A` (its config's remote `dst`
# on gateway A) unpacks every archive and leaves it for B; the worker of region B (`dst` on
# gateway B) unpacks them too and deletes every archive, the last of the two. A region list
# without --pack-only is refused (one line, exit 2).
source "$(dirname "$0")/testlib.bash"
DA=$(new_bucket ra); DB=$(new_bucket rb); STG=$(new_bucket rb)
mkdir -p "$WORK/src/d"
for i in $(seq 1 30); do seq 1 $((i * 40)) | sed "s/^/$i,row,/" > "$WORK/src/d/f$i.csv"; done
check "a region list without --pack-only: exit 2, one line" \
  expect_error 2 'ferry: error: --unpack-region: a list of regions needs --pack-only' \
  ferry sync "$WORK/src" "rb:$DB" --compress --staging "rb:$STG/r" --unpack-region A,B \
  --state "$WORK/s.db" --no-progress
ferry sync "$WORK/src" "rb:$DB" --compress --staging "rb:$STG/r" --pack-only --unpack-region A,B \
  --archive-size 1MiB --no-progress 2>"$WORK/pack.err"
archives() { ferry ls "rb:$STG/r" | grep -c '\.fza$' || true; }
check "archives staged" [ "$(archives)" -ge 1 ]
unpack() { # region destination -> the JSON summary in $WORK/<region>.json
  "$FERRY_BIN" --config "$CONF" unpack "rb:$STG/r" "$2" --region "$1" --json > "$WORK/$1.json"
}
field() { python3 -c "import json,sys; print(json.load(open('$WORK/$1.json'))['$2'])"; }
check "region A unpacks" unpack A "ra:$DA"
check "  every object written once" [ "$(field A objects_written)" = 30 ]
check "  the archives stay for region B, each with A's marker" \
  bash -c "[ \$('$FERRY_BIN' --config '$CONF' ls 'rb:$STG/r' | grep -c '\.fza\.done/A\$') = $(archives) ]"
check "region A again: its markers are there, nothing written" unpack A "ra:$DA"
check "  skipped every archive" \
  bash -c "[ $(field A objects_written) = 0 ] && [ $(field A archives_skipped) -ge 1 ]"
check "region B unpacks" unpack B "rb:$DB"
check "  every object written once" [ "$(field B objects_written)" = 30 ]
check "  and it deleted every archive, the last region to be done" \
  [ "$(field B archives_deleted)" = "$(field B archives)" ]
check "staging empty: archives and markers gone" [ -z "$(ferry ls "rb:$STG")" ]
ferry sync "ra:$DA" "$WORK/back-a" --no-progress >/dev/null 2>&1
ferry sync "rb:$DB" "$WORK/back-b" --no-progress >/dev/null 2>&1
check "A's destination has every object" diff -r "$WORK/src" "$WORK/back-a"
check "B's destination has every object" diff -r "$WORK/src" "$WORK/back-b"

# A shared state store: one bucket name on both gateways, remote `dst` on A for region A's
# worker and on B for region B's (and the packer).
SD=ferry-cli-$$-$RANDOM-shared
ferry mb "ra:$SD" >/dev/null 2>&1 && ferry mb "rb:$SD" >/dev/null 2>&1 && printf 'ra:%s\nrb:%s\n' "$SD" "$SD" >> "$WORK/buckets"
for r in a b; do
  ep=$FERRY_TEST_S3_ENDPOINT key=RA_KEY
  [ $r = b ] && ep=$FERRY_TEST_S3_ENDPOINT_B key=RB_KEY
  { cat "$CONF"; printf '\n[remotes.dst]\nendpoint = "%s"\naccess_key_id_env = "%s"\nsecret_access_key_env = "%s"\n' \
      "$ep" "$key" "${key/KEY/SECRET}"; } > "$WORK/conf-$r.toml"
done
SHARED=$WORK/shared.db
check "packed for A,B with a shared state store" \
  "$FERRY_BIN" --config "$WORK/conf-b.toml" sync "$WORK/src" "dst:$SD" --compress \
  --staging "rb:$STG/s" --pack-only --unpack-region A,B --archive-size 1MiB --state "$SHARED" \
  --no-progress 2>"$WORK/spack.err"
staged() { ferry ls "rb:$STG/s" | grep -c '\.fza$' || true; }
rows() { # the progress rows of a region not yet unpacked
  python3 -c "import sqlite3; print(sqlite3.connect('$SHARED').execute(\"SELECT COUNT(*) FROM transport_archives WHERE destination LIKE '% @$1' AND state NOT IN ('unpacked', 'done')\").fetchone()[0])"
}
N=$(staged)
check "  archives staged, a progress row per region each" \
  test "$N" -ge 1 -a "$(rows A)" = "$N" -a "$(rows B)" = "$N"
"$FERRY_BIN" --config "$WORK/conf-a.toml" worker --state "$SHARED" --role unpack --region A \
  --run 1 --until-done 2>"$WORK/wa.err" &
WA=$!
rows_of_region_are() { [ "$(rows "$1")" = "$2" ]; }
wait_until 60 "region A's worker unpacked every archive" rows_of_region_are A 0
check "  and left them all for region B" [ "$(staged)" = "$N" ]
check "region B's worker serves the run to its end" \
  timeout 120 "$FERRY_BIN" --config "$WORK/conf-b.toml" worker --state "$SHARED" --role unpack \
  --region B --run 1 --until-done 2>"$WORK/wb.err"
check "  and region A's returns too" wait "$WA"
check "  staging empty: the last region deleted every archive" [ -z "$(ferry ls "rb:$STG/s")" ]
ferry sync "ra:$SD" "$WORK/shared-a" --no-progress >/dev/null 2>&1
ferry sync "rb:$SD" "$WORK/shared-b" --no-progress >/dev/null 2>&1
check "  A's destination has every object" diff -r "$WORK/src" "$WORK/shared-a"
check "  B's destination has every object" diff -r "$WORK/src" "$WORK/shared-b"
finish
