# Helpers of the move scripts (move_test.sh, move_durable_test.sh), sourced after testlib.bash:
# what a location or folder holds, as one line each, and small files to move.
# keys LOCATION: its keys, sorted, on one line
keys() { ferry ls "$1" 2>/dev/null | awk '{print $NF}' | sort | tr '\n' ' '; }
fill() { # fill DIR KEY... : one small file per key, its content the key
  local dir=$1; shift
  for k in "$@"; do mkdir -p "$(dirname "$dir/$k")"; echo "bytes of $k" > "$dir/$k"; done
}
# all COND...: every COND (a shell test, as text) holds
all() { local c; for c in "$@"; do eval "$c" || return 1; done; }
# field NAME: NAME of the JSON summary in $WORK/out
field() {
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$WORK/out" "$1" \
    2>/dev/null || echo "(no $1 in the JSON summary)"
}
# files DIR, dirs DIR: the files and the folders under DIR, sorted, on one line
files() { (cd "$1" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' '); }
dirs() { (cd "$1" && find . -mindepth 1 -type d | sed 's|^\./||' | sort | tr '\n' ' '); }
