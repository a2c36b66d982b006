#!/usr/bin/env bash
# One archive meant for two regions, unpacked without a shared state store (issue 10 section
# 2): `ferry sync --compress --pack-only --unpack-region A,B` stages archives whose entries are
# meant for both; `ferry unpack --region A` writes them into A's destination and leaves a marker
# next to each archive; run again it finds its marker and writes nothing; `ferry unpack
# --region B` writes them into B's destination and, seeing both markers, deletes the archives
# and the markers. A region list with a shared state store is refused (one line, exit 2).
source "$(dirname "$0")/testlib.bash"
DA=$(new_bucket ra); DB=$(new_bucket rb); STG=$(new_bucket rb)
mkdir -p "$WORK/src/d"
for i in $(seq 1 30); do seq 1 $((i * 40)) | sed "s/^/$i,row,/" > "$WORK/src/d/f$i.csv"; done
check "a region list with a state store: exit 2, one line" \
  expect_error 2 'ferry: error: --unpack-region: a list of regions needs --pack-only without --state' \
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
finish
