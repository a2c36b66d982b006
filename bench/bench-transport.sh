#!/usr/bin/env bash
# Benchmark: compressed cross-region transport, region A -> region B of a generated
# compressible corpus (CSV, JSON lines and log text in objects of mixed sizes, a few MiB-sized
# ones, BENCH_PCT_RANDOM % of already-compressed noise), three ways into fresh buckets of B:
#   ferry sync --compress --staging rb:STAGING   (pack near A, archives to B, unpack in B)
#   ferry sync                                   (plain: every object crosses as it is)
#   rclone copy
# Per row: wall s, CPU s (user + sys), peak RSS MiB, the bytes that crossed to B (what RGW's
# usage log counts as received by B's buckets that the copy writes from A: the staging bucket
# for --compress, the destination otherwise), the ratio of the corpus to them, and a check that
# the destination holds every object with the source's bytes (a sample read back).
#
#   bash bench/bench-transport.sh                      # 3,000 objects (~190 MiB)
#   BENCH_OBJECTS=300 bash bench/bench-transport.sh    # quick check of the harness
#   BENCH_WAN_RATE=100mbit BENCH_WAN_RTT_MS=40 bash bench/bench-transport.sh   # over a WAN
#   BENCH_SHAPE=json4k BENCH_OBJECTS=50000 ...          # many small JSON objects (4 KiB each)
#
# Over an emulated WAN (BENCH_WAN_RATE set; root, bench/lib/wan.sh): the source side runs in a
# network namespace whose link to region B is capped at that rate (tc htb) with that round trip
# (a delay proxy); A is near. Plain ferry sync and rclone copy run there; the compressed run is
# `ferry sync --compress --pack-only --state FILE` there with `ferry worker --role unpack --run 1
# --until-done` near B (outside the namespace) on the same state file, beside it: wall time from
# the start of the one to the end of the other (BENCH_WAN_UNPACK=after: `ferry unpack` once the
# packing is done, the two wall times summed; "requests to B" then counts the pack side's only,
# with overlap also the unpack side's few per archive on staging). "bytes crossed"
# is then what the B link carried (both directions, HTTP and TCP included), and the notes give
# the goal: the plain wall time divided by the ratio.
#
# "requests to B" counts what RGW's usage log says the bucket written from A received (staging or
# destination): for --compress over a WAN, the pack side's requests only (those that cross).
#
# Environment: BENCH_TOOLS (rows to run, "compress plain rclone"), BENCH_COMPRESS_ARGS (more
#   flags of the compressed runs, e.g. "--archive-size 16MiB"), BENCH_OBJECTS (3000), BENCH_SHAPE (mixed | json4k), BENCH_PCT_RANDOM (5), BENCH_DIR (/tmp/ferry-bench),
#   BENCH_LOG_DIR (keep the tools' logs there: -v lines with timestamps of each archive packed
#   and unpacked), FERRY_BIN (default: build Release into build-release/), BENCH_FERRY_BIN_BEFORE (another
#   ferry binary, e.g. a build of main: its compressed run first, one more row "(before)"), the
#   FERRY_TEST_S3_* pair or
#   scripts/rgw-start.sh, CEPH_CONF / FERRY_TEST_CEPH_CONF for the usage log. Prints a
#   markdown table on stdout. Not a test: the figures depend on the machine.
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"
# shellcheck source=bench/lib/wan.sh
source "$FERRY_ROOT/bench/lib/wan.sh"
# shellcheck source=bench/lib/usage.sh
source "$FERRY_ROOT/bench/lib/usage.sh"

OBJECTS=${BENCH_OBJECTS:-3000}
PCT_RANDOM=${BENCH_PCT_RANDOM:-5}
SHAPE=${BENCH_SHAPE:-mixed}
case $SHAPE in mixed|json4k) ;; *) echo "BENCH_SHAPE: mixed or json4k" >&2; exit 2 ;; esac
WAN_RATE=${BENCH_WAN_RATE:-}
WAN_RTT_MS=${BENCH_WAN_RTT_MS:-40}
WAN_UNPACK=${BENCH_WAN_UNPACK:-overlap}
TOOLS=${BENCH_TOOLS:-compress plain rclone}
read -r -a COMPRESS_ARGS <<< "${BENCH_COMPRESS_ARGS:-}"
case $WAN_UNPACK in overlap|after) ;; *) echo "BENCH_WAN_UNPACK: overlap or after" >&2; exit 2 ;; esac
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=ft$(date +%s)
log() { ferry_log bench "$@"; }
die() { log "ERROR: $*"; exit 1; }

bash scripts/install-deps.sh build rgw bench
ensure_ferry_bin  # FERRY_BIN, or a Release build in build-release/ (bench/lib/measure.sh)

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/transport.XXXXXX")
buckets=()  # "a NAME" / "b NAME"
RGW_STARTED=0
cleanup() {
  local rc=$? b
  set +e
  if [ -n "${S3_ENDPOINT:-}" ]; then
    log "deleting the bench buckets"
    # emptied by ferry first (batched deletes: the CLI's one request per object takes minutes
    # for 50,000 objects), then dropped
    mkdir -p "$WORK/empty"
    for b in "${buckets[@]}"; do
      "$FERRY_BIN" --config "$CONFIG" sync "$WORK/empty" "r${b% *}:${b#* }" --delete --no-progress \
        >/dev/null 2>&1
      drop_bucket $b
    done
  fi
  wan_down
  if [ -n "${BENCH_LOG_DIR:-}" ]; then  # keep the tools' logs (timestamps) for a look afterwards
    mkdir -p "$BENCH_LOG_DIR" && cp "$WORK"/*.log "$WORK"/*.err "$BENCH_LOG_DIR"/ 2>/dev/null
  fi
  rm -rf "$WORK"
  if [ "$RGW_STARTED" = 1 ] && [ "${BENCH_KEEP_RGW:-0}" != 1 ]; then bash scripts/rgw-stop.sh; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rgw_up
export_rclone_remotes
CONFIG=$WORK/ferry.toml
write_ferry_config "$CONFIG"
export_ferry_keys
RCLONE=(env -u AWS_CA_BUNDLE rclone)
bucket() { make_bucket "$1" "$2"; buckets+=("$1 $2"); }

# bytes_in ZONE BUCKET: bytes RGW's usage log says BUCKET received so far ("" if unknown)
bytes_in() {
  local conf=${FERRY_TEST_CEPH_CONF:-${CEPH_CONF:-}} uid=tester
  [ -n "$conf" ] && command -v radosgw-admin >/dev/null || return 0
  [ "$1" = a ] || uid=tester-$1
  radosgw-admin -c "$conf" --rgw-realm "realm-$1" --rgw-zonegroup "region-$1" \
    --rgw-zone "zone-$1" usage show --uid "$uid" 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
n = 0
for e in d.get("entries", []):
    for b in e.get("buckets", []):
        if b.get("bucket") == sys.argv[1]:
            n += sum(c.get("bytes_received", 0) for c in b.get("categories", []))
print(n)' "$2"
}

# ------------------------------------------------------------------ source (not timed)
SRC=$ID-src
bucket a "$SRC"
log "generating $OBJECTS objects"
python3 - "$WORK/gen" "$OBJECTS" "$PCT_RANDOM" "$SHAPE" <<'PY'
import json, os, random, sys
d, n, pct, shape = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
random.seed(10)
os.makedirs(d)
cities = ["Zurich", "Basel", "Geneva", "Bern", "Lugano", "Chur", "Sion", "Aarau"]
def csv(size):
    rows, n = ["id,ts,city,amount,status,user_agent"], 0
    while n < size:
        rows.append("%d,2026-11-%02dT%02d:%02d:%02dZ,%s,%.2f,%s,Mozilla/5.0 (X11; Linux x86_64)"
                    % (random.randint(1, 10**9), random.randint(1, 28), random.randint(0, 23),
                       random.randint(0, 59), random.randint(0, 59), random.choice(cities),
                       random.random() * 1000, random.choice(["ok", "refunded", "failed"])))
        n += len(rows[-1]) + 1
    return "\n".join(rows).encode()
def jsonl(size):
    out, n = [], 0
    while n < size:
        out.append(json.dumps({"id": random.randint(1, 10**6), "city": random.choice(cities),
                               "tags": random.sample(cities, 3), "score": random.random()}))
        n += len(out[-1]) + 1
    return "\n".join(out).encode()
def logs(size):
    out, n = [], 0
    while n < size:
        out.append("2026-11-22 %02d:%02d:%02d INFO worker-%d request id=%08x path=/api/v1/items/%d status=200 ms=%d"
                   % (random.randint(0, 23), random.randint(0, 59), random.randint(0, 59),
                      random.randint(1, 16), random.getrandbits(32), random.randint(1, 99999),
                      random.randint(1, 900)))
        n += len(out[-1]) + 1
    return "\n".join(out).encode()
for i in range(n):
    size = random.choice([2, 8, 16, 32, 64, 128]) * 1024
    if i % 200 == 199:
        size = 8 << 20
    kind = i % 3
    if shape == "json4k":
        size, kind = 4096, 1
    if shape == "mixed" and random.randint(1, 100) <= pct:
        body, ext = os.urandom(size), "bin"
    else:
        body, ext = ([csv, jsonl, logs][kind](size))[:size], ["csv", "json", "log"][kind]
    sub = os.path.join(d, "part%02d" % (i % 20))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "obj%06d.%s" % (i, ext)), "wb") as f:
        f.write(body)
PY
CORPUS=$(find "$WORK/gen" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
"$FERRY_BIN" --config "$CONFIG" cp "$WORK/gen" "ra:$SRC" --no-progress >&2
rm -rf "$WORK/gen"
log "corpus: $OBJECTS objects, $CORPUS bytes"

R_ROWS=()
row() { # crossed tool dst_bucket requests
  local crossed=$1 check
  local got
  got=$(count_objects b "$3")
  check=ok
  [ "$got" = "$OBJECTS" ] || check="FAIL ($got objects)"
  if [ "$check" = ok ]; then
    local k
    # awk reads the whole listing: closing the pipe early breaks aws's (pipefail)
    k=$(aws_a s3 ls --recursive "s3://$SRC" | awk 'NR % 97 == 1 && n < 5 { print $4; n++ }')
    for key in $k; do
      cmp -s <(aws_a s3 cp "s3://$SRC/$key" - 2>/dev/null) \
        <(aws_b s3 cp "s3://$3/$key" - 2>/dev/null) || check="FAIL (bytes of $key)"
    done
  fi
  local ratio_s=n/a crossed_s=n/a
  if [ -n "$crossed" ]; then
    crossed_s=$crossed
    ratio_s=$(ratio "$CORPUS" "$crossed")
  fi
  R_ROWS+=("| $2 | $T_WALL | $T_CPU | $((T_RSS / 1024)) | $crossed_s | $ratio_s | ${4:-n/a} | $check |")
}

# Where the source-side commands run: here, or in the WAN namespace with its own config.
SIDE=()
SIDE_CONFIG=$CONFIG
RCLONE_SIDE=("${RCLONE[@]}")
if [ -n "$WAN_RATE" ]; then
  [ "$(id -u)" = 0 ] || die "BENCH_WAN_RATE needs root (network namespaces, tc)"
  log "emulated WAN to region B: $WAN_RATE, round trip $WAN_RTT_MS ms"
  wan_up "$WAN_RATE" "$WAN_RTT_MS" || die "could not set up the emulated WAN"
  SIDE=(ip netns exec "$WAN_NS")
  SIDE_CONFIG=$WORK/wan.toml
  S3_ENDPOINT=$WAN_ENDPOINT_A S3_ENDPOINT_B=$WAN_ENDPOINT_B write_ferry_config "$SIDE_CONFIG"
  RCLONE_SIDE=(env -u AWS_CA_BUNDLE RCLONE_CONFIG_RA_ENDPOINT="$WAN_ENDPOINT_A"
               RCLONE_CONFIG_RB_ENDPOINT="$WAN_ENDPOINT_B" rclone)
fi
# crossed BUCKET BEFORE: bytes that crossed to B since BEFORE (the link's count over a WAN, else
# what RGW's usage log says BUCKET received)
link_now() { if [ -n "$WAN_RATE" ]; then wan_bytes; else echo 0; fi; }
crossed() {
  if [ -n "$WAN_RATE" ]; then echo $(( $(wan_bytes) - $2 )); else sleep 2; bytes_in b "$1"; fi
}

# compress_run BIN LABEL SUFFIX: the compressed run with the ferry binary BIN into fresh buckets
# of B, one row LABEL. Sets COMPRESS_WALL, COMPRESS_CROSSED, PACK_WALL.
compress_run() {
  local bin=$1 label=$2 sfx=$3 before
  local DC=$ID-dst-compress$sfx STG=$ID-staging$sfx
  bucket b "$DC"
  bucket b "$STG"
  before=$(link_now)
  PACK_WALL=n/a
  if [ -n "$WAN_RATE" ]; then
    # The unpack side near B: beside the packing (a worker on the shared state store that serves
    # the run to its end), or after it (BENCH_WAN_UNPACK=after: ferry unpack, no shared store).
    if [ "$WAN_UNPACK" = overlap ]; then
      log "$label --pack-only (source side, over the WAN) beside ferry worker --role unpack (near B)"
      local STATE_DB=$WORK/transport$sfx.db T0 T_END pack_pid pu ps PACK_CPU PACK_RSS
      settle  # once, before both sides (the unpack side must not wait for the pack side's load)
      T0=$(date +%s.%N)
      /usr/bin/time -f "%e %U %S %M" -o "$WORK/pack$sfx.time" "${SIDE[@]}" "$bin" \
        --config "$SIDE_CONFIG" sync "ra:$SRC" "rb:$DC" --compress --staging "rb:$STG/st" \
        --pack-only --state "$STATE_DB" --json --no-progress -v --log-format json \
        "${COMPRESS_ARGS[@]}" \
        > "$WORK/compress$sfx.log" \
        2> "$WORK/compress$sfx.err" &
      pack_pid=$!
      # the run exists once the pack side created it (the listing is read whole: `grep -q`
      # closing the pipe early would fail the pipeline under pipefail and hold the loop its
      # full 10 s)
      local listed
      for _ in $(seq 200); do
        listed=$("$bin" jobs list --state "$STATE_DB" 2>/dev/null || true)
        [ -z "$listed" ] || break
        sleep 0.05
      done
      BENCH_SETTLE=0 timed "$WORK/unpack$sfx.log" "$bin" --config "$CONFIG" worker --state "$STATE_DB" \
        --role unpack --run 1 --until-done -v --log-format json || true
      wait "$pack_pid" || log "the pack side failed (log: $WORK/compress$sfx.err)"
      T_END=$(date +%s.%N)
      read -r PACK_WALL pu ps PACK_RSS < <(tail -n 1 "$WORK/pack$sfx.time")
      PACK_CPU=$(awk -v u="$pu" -v s="$ps" 'BEGIN { printf "%.2f", u + s }')
      crossed_compress=$(crossed "$STG" "$before")
      sleep 2  # RGW's usage log flushes every second
      req_compress=$(usage_ops b "$STG")
      log "  pack side ${PACK_WALL} s, unpack worker ${T_WALL} s (beside it)"
      timeline "$T0" "$WORK/compress$sfx.err" "$WORK/unpack$sfx.log" >&2 || true
      T_WALL=$(awk -v a="$T0" -v b="$T_END" 'BEGIN { printf "%.2f", b - a }')
    else
      log "$label --pack-only (source side, over the WAN), then ferry unpack (near B)"
      timed "$WORK/compress$sfx.log" "${SIDE[@]}" "$bin" --config "$SIDE_CONFIG" sync \
        "ra:$SRC" "rb:$DC" --compress --staging "rb:$STG/st" --pack-only --json --no-progress \
        "${COMPRESS_ARGS[@]}" || true
      PACK_WALL=$T_WALL PACK_CPU=$T_CPU PACK_RSS=$T_RSS
      crossed_compress=$(crossed "$STG" "$before")
      sleep 2  # RGW's usage log flushes every second
      req_compress=$(usage_ops b "$STG")
      timed "$WORK/unpack$sfx.log" "$bin" --config "$CONFIG" unpack "rb:$STG/st" "rb:$DC" \
        --json || true
      log "  pack ${PACK_WALL} s, unpack ${T_WALL} s"
      T_WALL=$(awk -v a="$PACK_WALL" -v b="$T_WALL" 'BEGIN { printf "%.2f", a + b }')
    fi
    T_CPU=$(awk -v a="$PACK_CPU" -v b="$T_CPU" 'BEGIN { printf "%.2f", a + b }')
    [ "$PACK_RSS" -le "$T_RSS" ] || T_RSS=$PACK_RSS
    # where the pack side's time went, per archive (ferry -v logs it since 2026-11-23)
    grep '"packed"\|packed ' "$WORK/compress$sfx.err" 2>/dev/null | tail -n 8 >&2 || true
  else
    log "$label"
    timed "$WORK/compress$sfx.log" "$bin" --config "$CONFIG" sync "ra:$SRC" "rb:$DC" --compress \
      --staging "rb:$STG/st" --json --no-progress "${COMPRESS_ARGS[@]}" || true
    crossed_compress=$(crossed "$STG" "$before")
    req_compress=$(usage_ops b "$STG")
  fi
  COMPRESS_WALL=$T_WALL
  row "$crossed_compress" "$label" "$DC" "$req_compress"
  COMPRESS_CROSSED=$crossed_compress
  python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["transport"]; print("  archives %d, bytes in %d, on the wire %d (ratio %.2f)" % (t["archives"], t["bytes_in"], t["bytes_wire"], t["ratio"]))' "$WORK/compress$sfx.log" >&2 || true
}

# timeline T0 PACK_LOG UNPACK_LOG: per archive, seconds after T0 at which its pack ended (it is
# staged) and its unpack ended, from the two sides' JSON logs (--log-format json -v).
timeline() {
  python3 - "$@" <<'PY'
import datetime, json, sys
t0 = float(sys.argv[1])
def at(line):
    t = datetime.datetime.strptime(line["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp() - t0
rows = {}
for path, what in ((sys.argv[2], "packed"), (sys.argv[3], "unpacked")):
    for raw in open(path, errors="replace"):
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if line.get("message") == what and "archive" in line:
            r = rows.setdefault(line["archive"], {})
            r[what] = at(line)
            if what == "packed":
                r["entries"], r["wire"] = line.get("entries"), line.get("archive_bytes")
for name, r in sorted(rows.items(), key=lambda kv: kv[1].get("packed", 1e9)):
    print("  %s: %s entries, %s bytes on the wire, staged at +%.1f s, unpacked at +%.1f s"
          % (name, r.get("entries"), r.get("wire"), r.get("packed", -1), r.get("unpacked", -1)))
PY
}

if [ -n "${BENCH_FERRY_BIN_BEFORE:-}" ]; then
  compress_run "$BENCH_FERRY_BIN_BEFORE" "ferry sync --compress (before)" -before
  BEFORE_WALL=$COMPRESS_WALL BEFORE_PACK_WALL=$PACK_WALL
fi
has_tool() { case " $TOOLS " in *" $1 "*) return 0 ;; esac; return 1; }
PLAIN_WALL=""
if has_tool compress; then compress_run "$FERRY_BIN" "ferry sync --compress" ""; fi

if has_tool plain; then
  DP=$ID-dst-plain
  bucket b "$DP"
  log "ferry sync (plain)"
  before=$(link_now)
  timed "$WORK/plain.log" "${SIDE[@]}" "$FERRY_BIN" --config "$SIDE_CONFIG" sync "ra:$SRC" \
    "rb:$DP" --no-progress || true
  PLAIN_WALL=$T_WALL
  crossed_plain=$(crossed "$DP" "$before")
  sleep 2
  row "$crossed_plain" "ferry sync" "$DP" "$(usage_ops b "$DP")"
fi

if has_tool rclone; then
  DR=$ID-dst-rclone
  bucket b "$DR"
  log "rclone copy"
  before=$(link_now)
  timed "$WORK/rclone.log" "${SIDE[@]}" "${RCLONE_SIDE[@]}" copy "ra:$SRC" "rb:$DR" \
    --transfers 32 --checkers 32 || true
  crossed_rclone=$(crossed "$DR" "$before")
  sleep 2
  row "$crossed_rclone" "rclone copy" "$DR" "$(usage_ops b "$DR")"
fi

echo
link="loopback"
[ -z "$WAN_RATE" ] || link="an emulated WAN of $WAN_RATE with a $WAN_RTT_MS ms round trip"
what="$PCT_RANDOM% random"
[ "$SHAPE" = mixed ] || what="4 KiB JSON each"
echo "compressed transport, $OBJECTS objects ($CORPUS bytes, $what), region A -> region B over $link$(server_setup) ($(date -u +%F))"
echo
echo "| tool | wall s | CPU s | peak RSS MiB | bytes crossed to B | corpus / crossed | requests to B | check |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${R_ROWS[@]}"
if [ -n "$WAN_RATE" ] && [ -n "$PLAIN_WALL" ] && [ -n "${COMPRESS_CROSSED:-}" ] \
   && [ "$COMPRESS_CROSSED" -gt 0 ]; then
  echo
  echo "goal: the compressed wall time close to the plain one divided by the ratio:" \
    "$PLAIN_WALL s / $(ratio "$CORPUS" "$COMPRESS_CROSSED") =" \
    "$(awk -v w="$PLAIN_WALL" -v c="$CORPUS" -v x="$COMPRESS_CROSSED" 'BEGIN { printf "%.2f", w * x / c }') s;" \
    "measured $COMPRESS_WALL s (pack side $PACK_WALL s over the link, unpack near B: $WAN_UNPACK)"
  if [ -n "${BENCH_FERRY_BIN_BEFORE:-}" ]; then
    echo
    echo "before ($BENCH_FERRY_BIN_BEFORE): $BEFORE_WALL s (pack side $BEFORE_PACK_WALL s)"
  fi
fi
for r in "${R_ROWS[@]}"; do case "$r" in *FAIL*) exit 1 ;; esac; done
