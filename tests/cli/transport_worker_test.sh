#!/usr/bin/env bash
# The two sides of compressed transport in two processes sharing a state store: `ferry sync
# --compress --pack-only --unpack-region east` packs and returns; a `ferry worker --role unpack`
# of another region leaves the archives alone; one of region east (`--run 1 --until-done`)
# unpacks them into the destination, empties staging and returns once the run is done. A role ferry does not know is one line, exit 2. Without a
# shared state store, `--pack-only` leaves no unpack work in any store and `ferry unpack
# STAGING DST` finds the archives by listing the staging prefix.
source "$(dirname "$0")/testlib.bash"
DST=$(new_bucket rb); STG=$(new_bucket rb)
mkdir -p "$WORK/src/logs"
for i in $(seq 1 40); do seq 1 $((i * 50)) | sed "s/^/$i,line,/" > "$WORK/src/logs/l$i.csv"; done
STATE=$WORK/run.db
check "unknown role: exit 2, one line" \
  expect_error 2 'ferry: error: --role: unknown role "bogus" (known: pack, unpack)' \
  ferry worker --state "$STATE" --role bogus
ferry sync "$WORK/src" "rb:$DST" --compress --staging "rb:$STG/s" --pack-only \
  --unpack-region east --state "$STATE" --no-progress 2>"$WORK/pack.err" || true
check "pack-only returns once packed, saying how to unpack" \
  grep -q "packed; unpack with: ferry worker --role unpack --state .* --region east" "$WORK/pack.err"
check "  archives staged" [ "$(ferry ls "rb:$STG/s" | wc -l)" -ge 1 ]
check "  nothing at the destination yet" [ -z "$(ferry ls "rb:$DST")" ]
serve() { # region -> serves unpack jobs for 4 s
  timeout -s INT 4 "$FERRY_BIN" --config "$CONF" worker --state "$STATE" --role unpack \
    --region "$1" 2>"$WORK/w-$1.err" || true
}
serve west
check "an unpack worker of another region leaves them" [ -z "$(ferry ls "rb:$DST")" ]
check "--until-done without --run: exit 2, one line" \
  expect_error 2 'ferry: error: --until-done needs --run' \
  ferry worker --state "$STATE" --role unpack --until-done
check "--run of a run the store does not have: an error naming it" \
  bash -c "! '$FERRY_BIN' --config '$CONF' worker --state '$STATE' --run 99 --until-done 2>'$WORK/w99.err' && grep -q -- '--run 99' '$WORK/w99.err' && [ \$(wc -l < '$WORK/w99.err') = 1 ]"
# Region east serves run 1 until it is done and returns by itself (exit 0).
check "the unpack worker of region east serves the run to its end (--run 1 --until-done)" \
  timeout 120 "$FERRY_BIN" --config "$CONF" worker --state "$STATE" --role unpack \
  --region east --run 1 --until-done 2>"$WORK/w-east.err"
check "  it unpacked every object" \
  [ "$(ferry ls "rb:$DST" | wc -l)" = 40 ]
check "  and says so" grep -q "archives packed (.*), 1 unpacked, 40 checksums verified" \
  "$WORK/w-east.err"
check "staging emptied" [ -z "$(ferry ls "rb:$STG")" ]
check "the run is done" bash -c "'$FERRY_BIN' jobs list --state '$STATE' | grep -q done"
ferry sync "rb:$DST" "$WORK/back" --no-progress >/dev/null 2>&1
check "bytes identical" diff -r "$WORK/src" "$WORK/back"

# No shared state store: the destination side lists the staging prefix.
D2=$(new_bucket rb)
ferry sync "$WORK/src" "rb:$D2" --compress --staging "rb:$STG/l" --pack-only --no-progress \
  2>"$WORK/pack2.err"
check "pack-only without --state: the run is done, and it says how to unpack" \
  grep -q "unpack with: ferry unpack rb:$STG/l rb:$D2" "$WORK/pack2.err"
check "  nothing at the destination yet" [ -z "$(ferry ls "rb:$D2")" ]
check "ferry unpack lists staging and unpacks every archive" \
  bash -c "'$FERRY_BIN' --config '$CONF' unpack 'rb:$STG/l' 'rb:$D2' --json > '$WORK/u.json'"
check "  every object written and verified" python3 -c "
import json; j = json.load(open('$WORK/u.json'))
assert j['ok'] and j['objects_written'] == 40 and j['checksums_verified'] == 40, j"
check "  staging emptied" [ -z "$(ferry ls "rb:$STG")" ]
check "  no state file left (the pack run's and the unpack's automatic ones removed)" \
  [ -z "$(ls -A "$FERRY_STATE_DIR" 2>/dev/null)" ]
check "a second unpack finds nothing to do" \
  bash -c "'$FERRY_BIN' --config '$CONF' unpack 'rb:$STG/l' 'rb:$D2' 2>&1 | grep -q '^unpack: 0 archives'"

# --restart of a compressed run whose archives wait for their unpack: the discarded run's
# archives leave staging (before, they stayed there for good: nothing would unpack them).
D3=$(new_bucket rb)
ferry sync "$WORK/src" "rb:$D3" --compress --staging "rb:$STG/r" --pack-only \
  --unpack-region east --state "$WORK/restart.db" --no-progress 2>/dev/null || true
check "a packed run waits for its unpack, its archives staged" \
  [ "$(ferry ls "rb:$STG/r" | wc -l)" -ge 1 ]
ferry ls "rb:$STG" > "$WORK/staging-before.txt"
ferry sync "$WORK/src" "rb:$D3" --compress --staging "rb:$STG/r" --pack-only \
  --unpack-region east --state "$WORK/restart.db" --restart --detach --no-progress \
  2>"$WORK/restart.err" || true
check "--restart deletes the discarded run's staged archives" [ -z "$(ferry ls "rb:$STG/r")" ]
check "  and says so" grep -q "discarded the staged archives of run 1" "$WORK/restart.err"
check "  another prefix's archives stay" \
  [ "$(ferry ls "rb:$STG" | grep -vc ' r/')" = "$(grep -vc ' r/' "$WORK/staging-before.txt")" ]

# The create of an archive's multipart upload whose reply is cut (the upload made upstream, the
# request sent again: a second upload) leaves no upload behind on staging once the archive is
# complete (tests/tools/fault_proxy.py --force; convergence_transport.py, BUG_ORPHAN_UPLOAD).
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
python3 "$TOOLS/fault_proxy.py" --upstream "${FERRY_TEST_S3_ENDPOINT_B#http://}" --rate 0 \
  --force 'truncate:^POST [^ ]*[?&]uploads' --log "$WORK/px.log" > "$WORK/px.out" 2>/dev/null &
PX=$!
wait_until 30 "the fault proxy listens" port_file_written "$WORK/px.out"
printf '\n[remotes.pb]\nendpoint = "http://127.0.0.1:%s"\nregion = "%s"\naccess_key_id_env = "RB_KEY"\nsecret_access_key_env = "RB_SECRET"\n' \
  "$(head -1 "$WORK/px.out")" "${FERRY_TEST_S3_REGION_B:-region-b}" >> "$CONF"
mkdir -p "$WORK/big"
head -c 7000000 /dev/urandom > "$WORK/big/r.bin"  # incompressible: an archive of two parts
D4=$(new_bucket rb)
ferry sync "$WORK/big" "rb:$D4" --compress --staging "pb:$STG/o" --pack-only \
  --unpack-region east --state "$WORK/orphan.db" --no-progress 2>"$WORK/orphan.err" || true
kill "$PX" 2>/dev/null; wait "$PX" 2>/dev/null || true
check "a cut reply to an archive's create: the upload was made twice" \
  grep -q $'^truncate\tPOST .*uploads' "$WORK/px.log"
check "  the archive is staged" [ "$(ferry ls "rb:$STG/o" | grep -c '\.fza$')" = 1 ]
check "  and no upload is left open on staging" python3 -c "
import sys; sys.path.insert(0, '$TOOLS')
import convergence_lib as c
s3 = c.client_for(c.load_remotes('$CONF'), 'rb')
sys.exit(s3.count_uploads('$STG'))"
finish
