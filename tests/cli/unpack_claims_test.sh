#!/usr/bin/env bash
# Several `ferry unpack` of one region and staging prefix (transport/claim.h): each archive is
# claimed by one unpacker at a time (create-only generations on staging, RGW's If-None-Match),
# so two started at once write every object exactly once into a versioned destination (one
# version per key; RGW's usage log counts one PUT per object) and empty staging. Then one
# unpacker is SIGSTOPped mid-archive while it holds its claim: a second one (listing every 30 s)
# takes over after the claim's ttl (--claim-ttl 3), not before and within 3 x ttl + 5 s of the
# stop (measured: the first generation past the stopped owner's), at the watermark carried in
# the claim: every object once before the first resumes; the first, resumed with SIGCONT, is
# fenced: it exits 1 saying it lost the claim, and what it had fenced but not sent before the
# stop may still land (the same bytes, at most one write per request slot: no S3 fencing token).
source "$(dirname "$0")/testlib.bash"
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd); export TOOLS
CHECK="python3 $TOOLS/unpack_claims_check.py"
STG=$(new_bucket rb)
# objects of random text (compressible about 1.3x): $1 folder, $2 count, $3 bytes each
make_objects() {
  python3 - "$1" "$2" "$3" <<'PY'
import base64, os, sys
folder, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(folder, exist_ok=True)
for i in range(n):
    with open(os.path.join(folder, "o%04d.txt" % i), "wb") as f:
        f.write(base64.b64encode(os.urandom(size * 3 // 4))[:size])
PY
}

# --- two unpackers at once, several archives ---
DST=$(new_bucket rb)
$CHECK versioned "$DST"
make_objects "$WORK/src1" 300 16384
ferry sync "$WORK/src1" "rb:$DST" --compress --staging "rb:$STG/s" --pack-only \
  --archive-size 1MiB --no-progress 2>"$WORK/pack1.err"
ARCHIVES=$(ferry ls "rb:$STG/s" | grep -c '\.fza$' || true)
check "pack-only staged several archives ($ARCHIVES)" [ "$ARCHIVES" -ge 4 ]
unpack() { # name, staging, destination, more flags...
  local name=$1 stg=$2 dst=$3; shift 3
  "$FERRY_BIN" --config "$CONF" unpack "rb:$stg" "rb:$dst" --state "$WORK/$name.db" --json "$@" \
    >"$WORK/$name.json" 2>"$WORK/$name.err"
}
unpack u1 "$STG/s" "$DST" & P1=$!
unpack u2 "$STG/s" "$DST" & P2=$!
R1=0; wait $P1 || R1=$?
R2=0; wait $P2 || R2=$?
check "both unpackers succeed" [ "$R1.$R2" = 0.0 ]
check "  between them every archive once and every object once" python3 -c "
import json
a, b = (json.load(open('$WORK/%s.json' % n)) for n in ('u1', 'u2'))
assert a['claims'] and b['claims'], 'claims not used'
assert a['archives'] + b['archives'] == $ARCHIVES, (a, b)
assert a['objects_written'] + b['objects_written'] == 300, (a, b)
assert a['already_present'] + b['already_present'] == 0, (a, b)"
check "  the destination holds each object once (versions, usage log)" \
  $CHECK once "$DST" 300 "two unpackers"
check "  staging empty (archives, claims, no probe left)" [ -z "$(ferry ls "rb:$STG")" ]

# --- a stalled unpacker is taken over and fenced ---
D2=$(new_bucket rb)
$CHECK versioned "$D2"
N2=3000
make_objects "$WORK/src2" $N2 1024
ferry sync "$WORK/src2" "rb:$D2" --compress --staging "rb:$STG/t" --pack-only --no-progress \
  2>"$WORK/pack2.err"
check "one archive staged" [ "$(ferry ls "rb:$STG/t" | grep -c '\.fza$')" = 1 ]
# ferry itself in the background (not a subshell), so that the signals reach it
"$FERRY_BIN" --config "$CONF" unpack "rb:$STG/t" "rb:$D2" --state "$WORK/first.db" --json \
  --claim-ttl 3 >"$WORK/first.json" 2>"$WORK/first.err" & PA=$!
hundred_written() { [ "$($CHECK count "$D2")" -ge 100 ]; }
# looked at often: it is stopped mid-archive, long before its 3000 objects
WAIT_EVERY=0.02 wait_for 30 hundred_written || true
kill -STOP $PA
STOP_AT=$(date +%s.%N)
# Kept: what it had sent before the SIGSTOP lands at RGW meanwhile (its responses wait unread);
# nothing outside the process says when its last request was answered
sleep 0.5
STOPPED_AT=$($CHECK count "$D2")
check "the first unpacker stopped mid-archive ($STOPPED_AT of $N2 written)" \
  test "$STOPPED_AT" -ge 1 -a "$STOPPED_AT" -lt $N2
check "  its claim is on staging" bash -c "'$FERRY_BIN' --config '$CONF' ls 'rb:$STG/t' | grep -q '\.fza\.claim/-/'"
# Watches the claim chain (every 0.1 s) for the first generation past the stopped owner's newest
# one: when it was seen (this machine's clock, from the SIGSTOP) and both mtimes as RGW lists
# them (the store's clock: the lease's).
python3 - "$STG" "$WORK/takeover" <<'PY' &
import os, sys, time
sys.path.insert(0, os.environ["TOOLS"])
from s3_check import S3
bucket, out = sys.argv[1], sys.argv[2]
def newest():
    got = S3["rb"].list_objects_v2(Bucket=bucket, Prefix="t/").get("Contents", [])
    gens = [o for o in got if ".fza.claim/" in o["Key"]]
    return max(gens, key=lambda o: o["Key"]) if gens else None
first = newest()
open(out + ".ready", "w").close()
deadline = time.time() + 120
while time.time() < deadline:
    g = newest()
    if g is not None and first is not None and g["Key"] > first["Key"]:
        with open(out, "w") as f:
            f.write("%.3f %.3f %s\n" % (time.time(), (g["LastModified"] - first["LastModified"])
                                         .total_seconds(), g["Key"].rsplit("/", 1)[1]))
        break
    time.sleep(0.1)
PY
PW=$!
wait_for 20 test -e "$WORK/takeover.ready" || true
# The second one lists every 30 s (--follow), far longer than the ttl: an archive it found held
# is still tried again a quarter of the ttl later. Stopped (SIGTERM) once staging is empty.
T0=$(date +%s)
"$FERRY_BIN" --config "$CONF" unpack "rb:$STG/t" "rb:$D2" --claim-ttl 3 --follow 30 \
  --state "$WORK/second.db" --json >"$WORK/second.json" 2>"$WORK/second.err" & PB=$!
staging_t_empty() { local left; left=$(ferry ls "rb:$STG/t") && [ -z "$left" ]; }
wait_for 120 staging_t_empty || true
T1=$(date +%s)
kill -TERM $PB
RB=0; wait $PB || RB=$?
check "a second unpacker takes the archive over after the ttl and finishes it" [ "$RB" = 0 ]
kill $PW 2>/dev/null || true  # done long before, unless it never saw the takeover
wait $PW 2>/dev/null || true
read -r SEEN_AT LEASE_GAP TAKEN_GEN < "$WORK/takeover" || true
TAKEOVER=$(python3 -c "print('%.1f' % (${SEEN_AT:-1e12} - $STOP_AT))")
echo "     takeover: generation ${TAKEN_GEN:-none} seen ${TAKEOVER} s after the SIGSTOP," \
  "created ${LEASE_GAP:-?} s after the owner's last one (RGW's mtimes), ttl 3 s; the" \
  "second unpacker emptied staging $((T1 - T0)) s after its start"
# never early: the lease counts from the owner's newest generation, by the store's clock
check "  not before the claim expired (${LEASE_GAP:-none} s after the owner's last generation)" \
  python3 -c "import sys; sys.exit(not (${LEASE_GAP:--1} >= 3))"
# nor late: ttl + a listing interval (ttl/4) + the Date's whole seconds, with room for a busy
# machine (the bound is 3 x ttl + 5 s)
check "  taken over ${TAKEOVER} s after the SIGSTOP (at most 14 s)" \
  python3 -c "import sys; sys.exit(not ($TAKEOVER <= 14))"
check "  it resumed: fewer than $N2 objects written by it, none found twice" python3 -c "
import json
b = json.load(open('$WORK/second.json'))
assert b['ok'] and b['archives'] == 1, b
assert b['objects_written'] < $N2 and b['objects_written'] + $STOPPED_AT >= $N2, b"
check "  the destination holds each object once (versions, usage log)" \
  $CHECK once "$D2" $N2 "after the takeover"
kill -CONT $PA
RA=0; wait $PA || RA=$?
check "the first unpacker, resumed, exits 1" [ "$RA" = 1 ]
check "  saying it lost its claim" grep -q "lost to another unpacker" "$WORK/first.err"
# A write the stopped owner had fenced but not yet sent leaves when it resumes: a second version
# of an entry the taker wrote, the same bytes (S3 has no fencing token a PUT could carry:
# docs/design/transport.md, "Not yet"). At most one per request slot of its engine (32).
check "  what it sent on resuming: the same bytes, at most 32 writes" \
  $CHECK same "$D2" $N2 32 "after the first one resumed"
check "  staging empty" [ -z "$(ferry ls "rb:$STG")" ]
finish
