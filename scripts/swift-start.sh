#!/usr/bin/env bash
# Start a throw-away single-node OpenStack Swift (Debian packages) with its S3 layer (the s3api
# middleware, tempauth) on 127.0.0.1: ferry's "less capable" S3 endpoint. It has no object tags
# (501 NotImplemented), no storage classes but STANDARD (400 InvalidStorageClass), and it honours
# x-amz-copy-source-if-match, so the tests check how ferry copies onto a store that cannot keep
# everything a source has.
#
#   eval "$(bash scripts/swift-start.sh)"    # start (or find running) and load SWIFT_S3_* variables
#   bash scripts/swift-start.sh --status     # exit 0 + info if running, else 1; no side effects
#   bash scripts/swift-stop.sh               # stop it and wipe its state
#
# Five processes (memcached, proxy, account, container and object servers), one device under
# $SWIFT_DIR, no systemd and no /etc changes. Cold start about 6 s; packages about 15 s.
#
# Environment (all optional):
#   SWIFT_DIR      state dir                         (default /tmp/ferry-swift)
#   SWIFT_PORT     S3 port (the proxy)               (default 8480)
#   SWIFT_BASE_PORT  first of four internal ports: object, container, account, memcached
#                  (default 6310)
#   SWIFT_INSTALL  1 to install the packages if missing (scripts/install-deps.sh swift) (default 1)
# Credentials: tempauth user test:tester, so access key "test:tester", secret "testing".
# Output: KEY=VALUE lines on stdout; progress on stderr.
set -euo pipefail

MODE=start
case ${1:-} in
  "") ;;
  --status) MODE=status ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--status]" >&2; exit 2 ;;
esac

HERE=$(cd "$(dirname "$0")" && pwd)
SWIFT_DIR=${SWIFT_DIR:-/tmp/ferry-swift}
SWIFT_PORT=${SWIFT_PORT:-8480}
BASE=${SWIFT_BASE_PORT:-6310}
PORT_OBJECT=$BASE PORT_CONTAINER=$((BASE + 1)) PORT_ACCOUNT=$((BASE + 2)) PORT_MEMCACHED=$((BASE + 3))
ETC=$SWIFT_DIR/etc
T0=$SECONDS
say() { printf '[swift-start %s] %s\n' "$(date +%T)" "$*" >&2; }

info() {
  echo "SWIFT_S3_ENDPOINT=http://127.0.0.1:$SWIFT_PORT"
  echo "SWIFT_S3_ACCESS_KEY=test:tester"
  echo "SWIFT_S3_SECRET_KEY=testing"
  echo "SWIFT_S3_REGION=us-east-1"
  echo "SWIFT_DIR=$SWIFT_DIR"
}
running() { # daemon name: its pid file names a live process
  [ -f "$SWIFT_DIR/run/$1.pid" ] && kill -0 "$(cat "$SWIFT_DIR/run/$1.pid")" 2>/dev/null
}
healthy() {
  for d in memcached proxy object container account; do running "$d" || return 1; done
  curl -fs -o /dev/null -m 2 "http://127.0.0.1:$SWIFT_PORT/healthcheck"
}

if healthy; then
  say "already running under $SWIFT_DIR"
  info; echo "SWIFT_STARTED=0"; exit 0
fi
[ "$MODE" = status ] && exit 1

if ! command -v swift-proxy-server >/dev/null || ! command -v memcached >/dev/null; then
  [ "${SWIFT_INSTALL:-1}" = 1 ] || { say "swift is not installed (scripts/install-deps.sh swift)"; exit 1; }
  bash "$HERE/install-deps.sh" swift
fi
if curl -s -o /dev/null -m 1 "http://127.0.0.1:$SWIFT_PORT/"; then
  say "port $SWIFT_PORT is taken by something else: set SWIFT_PORT"; exit 1
fi
if [ -d "$SWIFT_DIR" ]; then  # leftovers of an earlier run
  SWIFT_DIR=$SWIFT_DIR bash "$HERE/swift-stop.sh" >&2 || true
fi
mkdir -p "$ETC" "$SWIFT_DIR"/{run,log,srv/dev1}

cat > "$ETC/swift.conf" <<CONF
[swift-hash]
swift_hash_path_prefix = ferry$RANDOM
swift_hash_path_suffix = ferry$RANDOM
[storage-policy:0]
name = only
default = yes
[swift-constraints]
max_file_size = 5368709122
CONF

# one replica of each ring on the single device
for ring in object:$PORT_OBJECT container:$PORT_CONTAINER account:$PORT_ACCOUNT; do
  name=${ring%%:*} port=${ring##*:}
  swift-ring-builder "$ETC/$name.builder" create 6 1 1 >/dev/null
  swift-ring-builder "$ETC/$name.builder" add "r1z1-127.0.0.1:$port/dev1" 1 >/dev/null
  swift-ring-builder "$ETC/$name.builder" rebalance >/dev/null || true
done

server_conf() { # name port: a storage server's config
  cat <<CONF
[DEFAULT]
devices = $SWIFT_DIR/srv
mount_check = false
disable_fallocate = true
bind_ip = 127.0.0.1
bind_port = $2
workers = 0
swift_dir = $ETC
user = root
log_address = /nonexistent
log_udp_host = 127.0.0.1
log_udp_port = 9
[pipeline:main]
pipeline = healthcheck $1-server
[app:$1-server]
use = egg:swift#$1
[filter:healthcheck]
use = egg:swift#healthcheck
CONF
}
server_conf object "$PORT_OBJECT" > "$ETC/object-server.conf"
server_conf container "$PORT_CONTAINER" > "$ETC/container-server.conf"
server_conf account "$PORT_ACCOUNT" > "$ETC/account-server.conf"

# The proxy: S3 requests pass s3api (S3 -> Swift), tempauth (the S3 keys), then slo/dlo for
# multipart uploads. Each pipeline entry but the ones configured below is a plain filter.
pipeline=(catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api
          tempauth copy slo dlo proxy-logging proxy-server)
{
  cat <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $SWIFT_PORT
workers = 0
swift_dir = $ETC
user = root
log_address = /nonexistent
log_udp_host = 127.0.0.1
log_udp_port = 9
[pipeline:main]
pipeline = ${pipeline[*]}
[app:proxy-server]
use = egg:swift#proxy
allow_account_management = true
account_autocreate = true
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
allow_multipart_uploads = true
max_upload_part_num = 10000
min_segment_size = 5242880
check_bucket_owner = false
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$PORT_MEMCACHED
[filter:proxy-logging]
use = egg:swift#proxy_logging
CONF
  for f in catch_errors gatekeeper healthcheck listing_formats bulk copy slo dlo; do
    printf '[filter:%s]\nuse = egg:swift#%s\n' "$f" "$f"
  done
} > "$ETC/proxy-server.conf"

memcached -u root -l 127.0.0.1 -p "$PORT_MEMCACHED" -m 64 -P "$SWIFT_DIR/run/memcached.pid" -d
for d in account container object proxy; do
  nohup "swift-$d-server" "$ETC/$d-server.conf" > "$SWIFT_DIR/log/$d.log" 2>&1 &
  echo $! > "$SWIFT_DIR/run/$d.pid"
done
for _ in $(seq 1 200); do
  if curl -fs -o /dev/null -m 2 "http://127.0.0.1:$SWIFT_PORT/healthcheck" &&
     curl -fs -o /dev/null -m 2 "http://127.0.0.1:$PORT_OBJECT/healthcheck"; then
    say "ready after $((SECONDS - T0)) s"
    info; echo "SWIFT_STARTED=1"; exit 0
  fi
  sleep 0.2
done
say "Swift did not answer; logs under $SWIFT_DIR/log"
tail -n 20 "$SWIFT_DIR"/log/*.log >&2 || true
exit 1
