#!/usr/bin/env bash
# Benchmark: the archive codec. `ferry archive pack` of a folder beside the zstd CLI on a solid
# tar of the same files, same level, same run. Needs no servers.
#
#   bash bench/bench-codec.sh                          # 64 MiB per generated corpus, level 3
#   BENCH_CODEC_MB=16 BENCH_CODEC_LEVELS="1 3" bash bench/bench-codec.sh
#
# Corpora (generated under $BENCH_DIR, reproducible: fixed seeds):
#   csv     8 CSV files with realistic columns (ids, timestamps, names, amounts, regions)
#   json    8 files of JSON records, one per line
#   log     8 files of web-server-like log lines
#   random  8 files of random bytes (incompressible: stored raw by ferry)
#   docs    the text and sources under /usr/share/doc, many small real files (dangling
#           symbolic links left out)
# Per corpus and level (each tool run BENCH_CODEC_RUNS times, the run of median wall reported):
#   ferry         ferry archive pack DIR OUT.fza --level L --no-fsync  (zstd workers: one per
#                 CPU; no flush to disk, as the zstd CLI does not flush its output either)
#   ferry, fsync  the same with ferry's default: the archive flushed to disk before it returns
#   zstd          zstd -L -T0 on a tar of DIR made beforehand (tar not timed: the zstd CLI's own
#                 speed on one solid stream, its best case)
#   tar|zstd      tar -cf - DIR | zstd -L -T0 (reads the files as ferry does)
# Columns: input MiB, output bytes, ratio, wall s, CPU s, MB/s (input / wall), and for the
# ferry row speed and bytes relative to the zstd row (goal: speed >= 0.95, bytes <= 1.10).
# Every ferry archive is checked: `ferry archive ls` lists every file. After the table, the
# stage line of each ferry run: where its writer thread spent the wall (docs/design/archive.md,
# "Where pack waits").
#
# Environment: BENCH_CODEC_MB (per generated corpus, default 64), BENCH_CODEC_LEVELS (default 3),
#   BENCH_CODEC_RUNS (runs per tool, default 3: one run of 0.2 s swings by 20% on 2 cores),
#   BENCH_CODEC_CORPORA (default "csv json log random docs"), BENCH_DIR (default
#   /tmp/ferry-bench-codec), FERRY_BIN (default: build Release into build-release/),
#   BENCH_FERRY_BIN_BEFORE (an earlier build: a "ferry before" row beside each ferry row).
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
log() { printf '[bench-codec %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
MB=${BENCH_CODEC_MB:-64}
RUNS=${BENCH_CODEC_RUNS:-3}
LEVELS=${BENCH_CODEC_LEVELS:-3}
CORPORA=${BENCH_CODEC_CORPORA:-csv json log random docs}
WORK=${BENCH_DIR:-/tmp/ferry-bench-codec}
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"
command -v zstd >/dev/null || die "zstd CLI missing (apt-get install zstd)"
if [ -z "${FERRY_BIN:-}" ]; then
  log "building ferry (Release, build-release/)"
  FERRY_BIN=$(build_release_ferry) || die "the build of ferry failed"
fi
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT

# gen KIND FILE BYTES: one generated file (awk with a fixed seed per file)
gen() {
  local kind=$1 file=$2 bytes=$3 seed=$4
  if [ "$kind" = random ]; then head -c "$bytes" /dev/urandom > "$file"; return; fi
  awk -v kind="$kind" -v bytes="$bytes" -v seed="$seed" 'BEGIN {
    srand(seed); n = 0
    split("alice bob carol dave erin frank grace heidi ivan judy", names, " ")
    split("eu-west-1 us-east-1 ap-south-1 region-a region-b", regions, " ")
    split("GET POST PUT DELETE HEAD", methods, " ")
    split("/api/v1/items /api/v1/users /static/app.js /index.html /api/v2/orders", paths, " ")
    if (kind == "csv") print "id,ts,name,amount,currency,region,status"
    while (n < bytes) {
      id = int(rand() * 100000000); t = 1763800000 + int(rand() * 86400)
      nm = names[1 + int(rand() * 10)]; rg = regions[1 + int(rand() * 5)]
      if (kind == "csv")
        line = sprintf("%d,%s,%s,%.2f,EUR,%s,%s", id, strftime("%Y-%m-%dT%H:%M:%SZ", t, 1), nm,
                       rand() * 1000, rg, (rand() < 0.9 ? "ok" : "refunded"))
      else if (kind == "json")
        line = sprintf("{\"id\":%d,\"user\":\"%s\",\"region\":\"%s\",\"ts\":%d,\"items\":[%d,%d],\"total\":%.2f,\"paid\":%s}",
                       id, nm, rg, t, int(rand() * 500), int(rand() * 500), rand() * 300,
                       (rand() < 0.8 ? "true" : "false"))
      else
        line = sprintf("10.%d.%d.%d - %s [%s] \"%s %s HTTP/1.1\" %d %d %.3f", int(rand() * 255),
                       int(rand() * 255), int(rand() * 255), nm, strftime("%d/%b/%Y:%H:%M:%S +0000", t, 1),
                       methods[1 + int(rand() * 5)], paths[1 + int(rand() * 5)],
                       (rand() < 0.95 ? 200 : 404), int(rand() * 50000), rand())
      print line; n += length(line) + 1
    }
  }' > "$file"
}

make_corpus() {
  local c=$1 dir=$WORK/corpus/$1 i
  mkdir -p "$dir"
  if [ "$c" = docs ]; then
    cp -r --no-dereference /usr/share/doc/. "$dir/"
    find "$dir" -xtype l -delete  # dangling links: ferry refuses them, as it does in sync
    find "$dir" -type l -delete   # tar would store links, ferry their targets: keep files only
    return
  fi
  for i in 1 2 3 4 5 6 7 8; do gen "$c" "$dir/part-$i.$c" $((MB * 1024 * 1024 / 8)) "$i"; done
}

printf '\nArchive codec, %s cores; ferry archive pack vs zstd %s; %s\n\n' "$(nproc)" \
  "$(zstd --version | grep -o 'v[0-9.]*')" "$(date +%F)"
# median_timed LOG CMD...: runs CMD RUNS times (`timed`); T_WALL and T_CPU of the run whose
# wall time is the median.
median_timed() {
  local logf=$1 i walls=() cpus=()
  shift
  for ((i = 0; i < RUNS; i++)); do
    timed "$logf" "$@" || return
    walls+=("$T_WALL") cpus+=("$T_CPU")
  done
  read -r T_WALL T_CPU < <(for i in "${!walls[@]}"; do echo "${walls[$i]} ${cpus[$i]}"; done \
    | sort -n | awk -v n="$RUNS" 'NR == int((n + 1) / 2) { print $1, $2 }')
}

STAGES=()
echo "| corpus | level | tool | input MiB | output bytes | ratio | wall s | CPU s | MB/s | speed / zstd | bytes / zstd |"
echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in $CORPORA; do
  log "corpus $c"
  make_corpus "$c"
  dir=$WORK/corpus/$c
  in=$(find "$dir" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
  files=$(find "$dir" -type f -printf x | wc -c)
  tar -C "$dir" -cf "$WORK/$c.tar" .
  cat "$WORK/$c.tar" > /dev/null  # both read from the page cache
  for lv in $LEVELS; do
    median_timed "$WORK/zstd.log" zstd "-$lv" -T0 -q -f "$WORK/$c.tar" -o "$WORK/$c.tar.zst"
    z_wall=$T_WALL z_cpu=$T_CPU z_out=$(stat -c %s "$WORK/$c.tar.zst")
    median_timed "$WORK/tarzstd.log" \
      sh -c "tar -C '$dir' -cf - . | zstd -$lv -T0 -q -c > '$WORK/$c.pipe.zst'"
    p_wall=$T_WALL p_cpu=$T_CPU p_out=$(stat -c %s "$WORK/$c.pipe.zst")
    median_timed "$WORK/ferry-fsync.log" "$FERRY_BIN" archive pack "$dir" "$WORK/$c.fza" --level "$lv"
    s_wall=$T_WALL s_cpu=$T_CPU
    median_timed "$WORK/ferry.log" "$FERRY_BIN" --log-level debug archive pack "$dir" \
      "$WORK/$c.fza" --level "$lv" --no-fsync
    f_wall=$T_WALL f_cpu=$T_CPU f_out=$(stat -c %s "$WORK/$c.fza")
    stage=$(sed -n 's/.*writer thread stages *//p' "$WORK/ferry.log" | head -n 1)
    STAGES+=("$c level $lv: ${stage:-no stage line}")
    listed=$("$FERRY_BIN" archive ls "$WORK/$c.fza" | wc -l)
    [ "$listed" = "$files" ] || die "$c: archive lists $listed entries, corpus has $files files"
    row() {  # tool out wall cpu [rel]
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$c" "$lv" "$1" \
        "$(awk -v b="$in" 'BEGIN { printf "%.1f", b / 1048576 }')" "$2" "$(ratio "$in" "$2")" \
        "$3" "$4" "$(awk -v b="$in" -v w="$3" 'BEGIN { printf "%.0f", (w > 0 ? b / w / 1e6 : 0) }')" \
        "${5:-}" "${6:-}"
    }
    row zstd "$z_out" "$z_wall" "$z_cpu" 1.00 1.00
    row "tar\\|zstd" "$p_out" "$p_wall" "$p_cpu" "$(ratio "$z_wall" "$p_wall")" "$(ratio "$p_out" "$z_out")"
    row ferry "$f_out" "$f_wall" "$f_cpu" "$(ratio "$z_wall" "$f_wall")" "$(ratio "$f_out" "$z_out")"
    row "ferry, fsync" "$f_out" "$s_wall" "$s_cpu" "$(ratio "$z_wall" "$s_wall")" \
      "$(ratio "$f_out" "$z_out")"
    if [ -n "${BENCH_FERRY_BIN_BEFORE:-}" ]; then  # the same pack with an earlier build
      median_timed "$WORK/ferry-before.log" "$BENCH_FERRY_BIN_BEFORE" archive pack "$dir" \
        "$WORK/$c.before.fza" --level "$lv" --no-fsync
      b_out=$(stat -c %s "$WORK/$c.before.fza")
      row "ferry before" "$b_out" "$T_WALL" "$T_CPU" "$(ratio "$z_wall" "$T_WALL")" \
        "$(ratio "$b_out" "$z_out")"
      rm -f "$WORK/$c.before.fza"
    fi
    rm -f "$WORK/$c.fza" "$WORK/$c.tar.zst" "$WORK/$c.pipe.zst"
  done
  rm -rf "$dir" "$WORK/$c.tar"
done
echo
for line in "${STAGES[@]}"; do echo "- $line"; done
