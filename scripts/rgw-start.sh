#!/usr/bin/env bash
# Start a throw-away single-node Ceph cluster (1 mon, 1 bluestore osd on a sparse file, optional mgr)
# plus two Ceph RADOS Gateways (S3 API, beast frontend) on 127.0.0.1: two independent "regions"
# for ferry's integration tests, demo and benchmarks (region A -> region B). Gateway A also
# serves HTTPS on RGW_TLS_PORT with a certificate for 127.0.0.1 and localhost issued by a
# throw-away CA, both made with the openssl CLI when the cluster is created ($RGW_DIR/tls/).
# No systemd and no containers: every daemon runs directly with -c $RGW_DIR/ceph.conf.
#
#   eval "$(bash scripts/rgw-start.sh)"      # start (or find running) and load S3_* variables
#   bash scripts/rgw-start.sh --status       # no side effects: exit 0 + info if running, else 1
#   bash scripts/rgw-start.sh --revive       # restart a gateway that died (monitor and OSD up)
#   bash scripts/rgw-stop.sh                 # stop it (same environment variables)
#
# Idempotent: if the cluster under $RGW_DIR is already up and the S3 ports answer, it only prints
# the connection info (RGW_STARTED=0). Otherwise leftovers under $RGW_DIR are stopped and wiped and
# a new cluster is created (RGW_STARTED=1). It refuses to start when a port is taken by something
# else (e.g. another developer's gateways): point RGW_DIR at that cluster's state dir to reuse it,
# or pick other ports. Cold start: ~17 s with one gateway, ~25 s with two.
#
# Environment (all optional):
#   RGW_DIR          state dir                       (default /tmp/ferry-rgw)
#   RGW_PORT         S3 port of instance A           (default 7480)
#   RGW_PORT_B       S3 port of instance B           (default 7481)
#   RGW_TLS_PORT     HTTPS S3 port of instance A     (default 7443)
#   RGW_STS_PORT     a second gateway of instance A's zone that also serves STS (default 7482)
#   RGW_MON_PORT / RGW_MON_PORT2   monitor ports, v1 / v2 messenger   (default 6789 / 3300)
#   RGW_INSTANCES    1 or 2; 2 starts a second, fully independent RGW "region"
#                    (own realm/zonegroup/zone/pools/users) on RGW_PORT_B  (default 2)
#   RGW_OBJECTSTORE  bluestore (sparse file, ~200 MB RSS) or memstore (all data in OSD RAM)  (default bluestore)
#   RGW_STORE_GB     bluestore sparse file size / memstore RAM cap, GiB  (default 16)
#   RGW_WITH_MGR     1 to also run ceph-mgr (not needed by RGW)   (default 0)
#   RGW_INSTALL      1 to install the packages if missing (scripts/install-deps.sh rgw)  (default 1)
#   RGW_LOG          quiet: the daemons write and keep in memory only errors (a crash's report
#                    still reaches the log); verbose: Ceph's defaults (RGW logs every request)
#                    (default quiet: ~15-20% less gateway and OSD CPU per request, measured)
#   RGW_USAGE_LOG    true to record per-user request/byte counts (radosgw-admin usage show) (default false)
#   RGW_ACCESS_KEY / RGW_SECRET_KEY         keys of user "tester"  in instance A
#   RGW_ACCESS_KEY_B / RGW_SECRET_KEY_B     keys of user "tester-b" in instance B
# Output: shell-style KEY=VALUE lines on stdout (eval-able); progress on stderr. Besides the
# S3_* of each gateway: S3_TLS_ENDPOINT (gateway A over HTTPS) and S3_TLS_CA (the PEM of the CA
# that issued its certificate).
set -euo pipefail

MODE=start
case ${1:-} in
  "") ;;
  --status) MODE=status ;;
  --revive) MODE=revive ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--status|--revive]" >&2; exit 2 ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)

RGW_DIR=${RGW_DIR:-/tmp/ferry-rgw}
RGW_PORT=${RGW_PORT:-7480}
RGW_PORT_B=${RGW_PORT_B:-7481}
RGW_TLS_PORT=${RGW_TLS_PORT:-7443}
RGW_STS_PORT=${RGW_STS_PORT:-7482}
RGW_INSTANCES=${RGW_INSTANCES:-2}
RGW_OBJECTSTORE=${RGW_OBJECTSTORE:-bluestore}
RGW_STORE_GB=${RGW_STORE_GB:-16}
RGW_WITH_MGR=${RGW_WITH_MGR:-0}
RGW_INSTALL=${RGW_INSTALL:-1}
RGW_LOG=${RGW_LOG:-quiet}
case $RGW_LOG in quiet|verbose) ;; *) echo "RGW_LOG must be quiet or verbose (got '$RGW_LOG')" >&2; exit 2 ;; esac
RGW_ACCESS_KEY=${RGW_ACCESS_KEY:-AKIARGWTESTERAAAAAAA}
RGW_SECRET_KEY=${RGW_SECRET_KEY:-rgwTesterSecretKeyAAAAAAAAAAAAAAAAAAAAAA}
RGW_ACCESS_KEY_B=${RGW_ACCESS_KEY_B:-AKIARGWTESTERBBBBBBB}
RGW_SECRET_KEY_B=${RGW_SECRET_KEY_B:-rgwTesterSecretKeyBBBBBBBBBBBBBBBBBBBBBB}
# a second account in gateway A (uid tester-other): ACL grants and the replica owner of
# AccessControlTranslation (tests/cli/object_lock_test.sh)
RGW_ACCESS_KEY_OTHER=${RGW_ACCESS_KEY_OTHER:-AKIARGWTESTEROTHERAA}
RGW_SECRET_KEY_OTHER=${RGW_SECRET_KEY_OTHER:-rgwTesterSecretKeyOTHERAAAAAAAAAAAAAAAAA}
MON_PORT=${RGW_MON_PORT:-6789}     # v1 messenger port of the monitor
MON_PORT2=${RGW_MON_PORT2:-3300}   # v2 messenger port of the monitor

log() { printf '[rgw-start %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
  log "ERROR: $*"
  # stop whatever this run started; keep $RGW_DIR (logs) for inspection
  if [ -d "${RGW_DIR:-}/run" ]; then RGW_DIR=$RGW_DIR RGW_KEEP=1 bash "$HERE/rgw-stop.sh" >&2 || true; fi
  exit 1
}
set -E
trap 'die "command failed (line $LINENO)"' ERR
T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

case $RGW_OBJECTSTORE in bluestore|memstore) ;; *) die "RGW_OBJECTSTORE must be bluestore or memstore";; esac
case $RGW_INSTANCES in 1|2) ;; *) die "RGW_INSTANCES must be 1 or 2";; esac

CONF=$RGW_DIR/ceph.conf
TLS_DIR=$RGW_DIR/tls
CEPH="ceph -c $CONF --connect-timeout 20"
ADMIN="radosgw-admin -c $CONF"

print_info() {
  echo "S3_ENDPOINT=http://127.0.0.1:$RGW_PORT"
  echo "S3_ACCESS_KEY=$RGW_ACCESS_KEY"
  echo "S3_SECRET_KEY=$RGW_SECRET_KEY"
  echo "S3_REGION=region-a"
  # second account of gateway A (tests/cli/object_lock_test.sh)
  echo "S3_ACCESS_KEY_OTHER=$RGW_ACCESS_KEY_OTHER"
  echo "S3_SECRET_KEY_OTHER=$RGW_SECRET_KEY_OTHER"
  echo "S3_OTHER_USER_ID=tester-other"
  if [ "$RGW_INSTANCES" = 2 ]; then
    echo "S3_ENDPOINT_B=http://127.0.0.1:$RGW_PORT_B"
    echo "S3_ACCESS_KEY_B=$RGW_ACCESS_KEY_B"
    echo "S3_SECRET_KEY_B=$RGW_SECRET_KEY_B"
    echo "S3_REGION_B=region-b"
  fi
  echo "S3_STS_ENDPOINT=http://127.0.0.1:$RGW_STS_PORT"  # zone A's keys, region-a, with STS
  echo "S3_TLS_ENDPOINT=https://127.0.0.1:$RGW_TLS_PORT"
  echo "S3_TLS_CA=$TLS_DIR/ca.pem"
  echo "CEPH_CONF=$CONF"
  echo "RGW_DIR=$RGW_DIR"
}

port_answers() { curl -s -o /dev/null -m 2 "http://127.0.0.1:$1/"; }
# gateway A answers over HTTPS with a certificate our CA issued
tls_answers() {
  [ -f "$TLS_DIR/ca.pem" ] && curl -s -o /dev/null -m 2 --cacert "$TLS_DIR/ca.pem" \
    "https://127.0.0.1:$RGW_TLS_PORT/"
}
# a CA and the certificate it issues for 127.0.0.1 and localhost: gateway A's HTTPS frontend
make_tls() {
  command -v openssl >/dev/null || die "the openssl command is missing (Debian package openssl)"
  mkdir -p "$TLS_DIR"
  ( cd "$TLS_DIR" && umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -keyout ca.key -out ca.pem -subj "/CN=ferry test RGW CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key \
      -out server.csr -subj "/CN=127.0.0.1"
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile server.ext -out server.pem
    chmod 644 ca.pem server.pem ) >"$RGW_DIR/log/tls.log" 2>&1 \
    || die "making the TLS certificates failed (see $RGW_DIR/log/tls.log)"
}
zargs() { echo "--rgw-realm realm-$1 --rgw-zonegroup region-$1 --rgw-zone zone-$1"; }
start_rgw() { # $1 = a|b|s (s: zone A's gateway with STS)  $2 = port
  local id=$1 port=$2 frontends="beast endpoint=127.0.0.1:$2" zone=$1
  [ "$id" = s ] && zone=a
  if [ "$id" = a ]; then  # gateway A also serves HTTPS
    frontends+=" ssl_endpoint=127.0.0.1:$RGW_TLS_PORT ssl_certificate=$TLS_DIR/server.pem"
    frontends+=" ssl_private_key=$TLS_DIR/server.key"
  fi
  mkdir -p "$RGW_DIR/rgw.$id"
  $CEPH auth get-or-create "client.rgw.$id" mon 'allow rw' osd 'allow rwx' mgr 'allow rw' \
    > "$RGW_DIR/rgw.$id/keyring"
  # shellcheck disable=SC2046
  radosgw -c "$CONF" -n "client.rgw.$id" --keyring "$RGW_DIR/rgw.$id/keyring" \
    --rgw-frontends "$frontends" $(zargs "$zone")
}

# something accepts TCP connections on 127.0.0.1:$1 (any protocol: also catches the monitor ports)
port_busy() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
# the pid file names a live process that was started with our ceph.conf (guards against pid reuse)
pid_alive() {
  local p
  [ -f "$1" ] && p=$(cat "$1" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null \
    && tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF -- " $CONF "
}
running() {
  [ -f "$CONF" ] && pid_alive "$RGW_DIR/run/mon.a.pid" && pid_alive "$RGW_DIR/run/osd.0.pid" \
    && pid_alive "$RGW_DIR/run/client.rgw.a.pid" && port_answers "$RGW_PORT" && tls_answers \
    && { [ "$RGW_INSTANCES" != 2 ] || { pid_alive "$RGW_DIR/run/client.rgw.b.pid" && port_answers "$RGW_PORT_B"; }; } \
    && pid_alive "$RGW_DIR/run/client.rgw.s.pid" && port_answers "$RGW_STS_PORT"
}

# ---------------------------------------------------------------- idempotence
if running; then
  log "already running under $RGW_DIR"
  print_info
  echo "RGW_STARTED=0"
  exit 0
fi
if [ "$MODE" = status ]; then
  log "not running under $RGW_DIR (RGW_INSTANCES=$RGW_INSTANCES)"
  exit 1
fi
if [ "$MODE" = revive ]; then
  # a gateway that crashed (RGW 16 has segfaulted once under a test's DeleteObjects) is started
  # again on the same cluster; its buckets and users are the cluster's and are all still there
  if ! { [ -f "$CONF" ] && pid_alive "$RGW_DIR/run/mon.a.pid" && pid_alive "$RGW_DIR/run/osd.0.pid"; }; then
    log "cannot revive: no running cluster under $RGW_DIR"
    exit 1
  fi
  ids="a:$RGW_PORT s:$RGW_STS_PORT"  # gateway S: zone A's, with STS
  [ "$RGW_INSTANCES" = 2 ] && ids="$ids b:$RGW_PORT_B"
  for ip in $ids; do
    id=${ip%%:*} port=${ip#*:}
    port_answers "$port" && continue
    log "RGW $id does not answer on $port: starting it again"
    start_rgw "$id" "$port"
    for _ in $(seq 1 240); do port_answers "$port" && break; sleep 0.5; done
    port_answers "$port" || { log "RGW $id did not come back (see $RGW_DIR/log/client.rgw.$id.log)"; exit 1; }
  done
  print_info
  echo "RGW_STARTED=0"
  exit 0
fi
if [ -d "$RGW_DIR" ]; then
  # only wipe a directory that is empty or was made by this script: a mistyped RGW_DIR must not
  # cost anyone their files
  if [ -n "$(ls -A "$RGW_DIR")" ] && [ ! -f "$CONF" ]; then
    trap - ERR
    log "ERROR: $RGW_DIR exists, is not empty and has no ceph.conf: not a state dir of this script"
    exit 1
  fi
  log "stale state in $RGW_DIR: stopping leftovers and wiping it"
  RGW_DIR=$RGW_DIR bash "$HERE/rgw-stop.sh" >&2 || true
  rm -rf "$RGW_DIR"
fi

# a port taken by another process (e.g. another cluster's gateway or monitor) would make a daemon
# fail half-way through the start; say so clearly instead
ports="$RGW_PORT $RGW_TLS_PORT $MON_PORT $MON_PORT2"
[ "$RGW_INSTANCES" = 2 ] && ports="$ports $RGW_PORT_B"
for p in $ports; do
  if port_busy "$p"; then
    trap - ERR
    log "ERROR: port $p on 127.0.0.1 is already in use by another process."
    log "  To reuse a running RGW pair, set RGW_DIR to its state dir (e.g. RGW_DIR=/tmp/s3-rgw);"
    log "  to run a second cluster, set RGW_PORT, RGW_PORT_B, RGW_MON_PORT and RGW_MON_PORT2 to free ports."
    exit 1
  fi
done

# ---------------------------------------------------------------- packages
if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null || ! command -v ceph-osd >/dev/null \
   || { [ "$RGW_WITH_MGR" = 1 ] && ! command -v ceph-mgr >/dev/null; }; then
  [ "$RGW_INSTALL" = 1 ] || die "ceph packages missing and RGW_INSTALL=0"
  log "installing ceph packages"
  bash "$HERE/install-deps.sh" rgw >&2
  if [ "$RGW_WITH_MGR" = 1 ] && ! command -v ceph-mgr >/dev/null; then
    # ceph-mgr is optional and not part of any install-deps.sh group (it adds ~300 MB RSS)
    apt_get=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q)
    [ "$(id -u)" = 0 ] || apt_get=(sudo "${apt_get[@]}")
    "${apt_get[@]}" install --no-install-recommends ceph-mgr >&2
  fi
  log "packages installed after $(elapsed)s"
fi

mkdir -p "$RGW_DIR"/{run,log,mon.a,osd.0,tmp}
make_tls
FSID=$(cat /proc/sys/kernel/random/uuid)
STORE_BYTES=$((RGW_STORE_GB * 1024 * 1024 * 1024))

# rgw_debug_levels: the [global] debug lines of RGW_LOG. Ceph formats every message up to a
# subsystem's second level into a memory ring (kept for a crash's report) and writes those up to
# the first: at the defaults (rgw 1/5, osd 1/5, bluestore 1/5, rocksdb 4/5, ...) that is a few
# lines a request and many more formatted. Measured here (1,000 PUTs, a LIST and a sync, gateway
# and OSD CPU, three runs each): 3.0-4.0 CPU-s at the defaults, 2.4-3.5 with every level 0/0.
rgw_debug_levels() {
  [ "$RGW_LOG" = quiet ] || return 0
  local s
  for s in rgw rgw_sync osd bluestore bluefs bdev rocksdb objecter rados \
      monc auth asok finisher heartbeatmap perfcounter prioritycache throttle timer crypto \
      compressor context optracker objclass mon paxos ms journal filestore memdb leveldb kstore \
      buffer crush reserver refs lockdep; do
    echo "debug $s = 0/0"
  done
}

cat > "$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_PORT2,v1:127.0.0.1:$MON_PORT]
mon initial members = a
public addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $RGW_DIR/keyring
run dir = $RGW_DIR/run
admin socket = $RGW_DIR/run/\$name.asok
pid file = $RGW_DIR/run/\$name.pid
log file = $RGW_DIR/log/\$name.log
crash dir = $RGW_DIR/tmp
exporter sock dir = $RGW_DIR/run
log to stderr = false
err to stderr = false
debug ms = 0
$(rgw_debug_levels)
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
mon warn on insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
mon osd reporter subtree level = osd
osd max object size = 1073741824
[mon]
mon data = $RGW_DIR/mon.\$id
mon cluster log file = $RGW_DIR/log/cluster.log
[mgr]
mgr data = $RGW_DIR/mgr.\$id
keyring = $RGW_DIR/mgr.\$id/keyring
[osd]
osd data = $RGW_DIR/osd.\$id
keyring = $RGW_DIR/osd.\$id/keyring
osd objectstore = $RGW_OBJECTSTORE
memstore device bytes = $STORE_BYTES
bluestore block path = $RGW_DIR/osd.\$id.block
bluestore block create = true
bluestore block size = $STORE_BYTES
bluestore block db create = false
bluestore block wal create = false
bluestore fsck on mount = false
bluestore cache autotune = false
bluestore cache size = 268435456
osd memory target = 1073741824
osd op num shards = 2
osd op num threads per shard = 1
osd check max object name len on startup = false
[client]
rgw data = $RGW_DIR/rgw.\$id
keyring = $RGW_DIR/keyring
rgw thread pool size = 64
rgw dynamic resharding = false
rgw enable usage log = ${RGW_USAGE_LOG:-false}
# with RGW_USAGE_LOG=true, flush usage records every second so tests can read them at once
rgw usage log tick interval = 1
rgw usage log flush threshold = 1
rgw crypt require ssl = false
# server-side encryption (tests/cli/sse_test.sh): SSE-KMS with RGW's built-in test key store
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = testkey-1=YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY= testkey-2=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo2NTQzMjE=
# reclaim space of deleted/overwritten objects within a minute instead of 2 hours
rgw gc obj min wait = 30
rgw gc processor period = 30
rgw gc processor max time = 30
# STS (AssumeRole on the S3 endpoint) on gateway S only (zone A's users and buckets on its own
# port), for tests/cli/credentials_test.sh: temporary keys of the roles made below (the key only
# seals this throw-away cluster's session tokens). Not on gateways A and B: with it RGW 16
# answers a wrong secret or an unknown key with a plain AccessDenied instead of
# SignatureDoesNotMatch / InvalidAccessKeyId, and refuses the made-up session tokens other
# tests send (RGW without STS ignores them).
[client.rgw.s]
rgw sts key = ferrytestsstskey
rgw s3 auth use sts = true
EOF

# ---------------------------------------------------------------- monitor
log "creating monitor"
ceph-authtool --create-keyring "$RGW_DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$RGW_DIR/keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
monmaptool --create --clobber --fsid "$FSID" \
  --addv a "[v2:127.0.0.1:$MON_PORT2,v1:127.0.0.1:$MON_PORT]" "$RGW_DIR/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$RGW_DIR/monmap" --keyring "$RGW_DIR/keyring"
ceph-mon -c "$CONF" -i a
for _ in $(seq 1 60); do $CEPH -s >/dev/null 2>&1 && break; sleep 0.5; done
$CEPH -s >/dev/null || die "monitor did not come up (see $RGW_DIR/log/mon.a.log)"
log "monitor up after $(elapsed)s"

# ---------------------------------------------------------------- manager (optional)
if [ "$RGW_WITH_MGR" = 1 ]; then
  mkdir -p "$RGW_DIR/mgr.x"
  $CEPH auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' > "$RGW_DIR/mgr.x/keyring"
  ceph-mgr -c "$CONF" -i x
fi

# ---------------------------------------------------------------- OSD
log "creating osd.0 ($RGW_OBJECTSTORE, ${RGW_STORE_GB} GiB)"
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_SECRET=$(ceph-authtool --gen-print-key)
printf '{"cephx_secret": "%s"}' "$OSD_SECRET" > "$RGW_DIR/tmp/osd.json"
OSD_ID=$($CEPH osd new "$OSD_UUID" -i "$RGW_DIR/tmp/osd.json")
[ "$OSD_ID" = 0 ] || die "unexpected osd id $OSD_ID"
printf '[osd.0]\n\tkey = %s\n' "$OSD_SECRET" > "$RGW_DIR/osd.0/keyring"
ceph-osd -c "$CONF" -i 0 --mkfs --key "$OSD_SECRET" --osd-uuid "$OSD_UUID" >"$RGW_DIR/log/osd.0.mkfs.log" 2>&1 \
  || die "osd mkfs failed, see $RGW_DIR/log/osd.0.mkfs.log"
ceph-osd -c "$CONF" -i 0
for _ in $(seq 1 120); do
  $CEPH osd dump 2>/dev/null | grep -q '^osd.0 up' && break; sleep 0.5
done
$CEPH osd dump | grep -q '^osd.0 up' || die "osd.0 not up (see $RGW_DIR/log/osd.0.log)"
log "osd.0 up after $(elapsed)s"

# ---------------------------------------------------------------- RGW zone setup
# Each RGW instance gets its own realm / zonegroup ("region") / zone with its own pools and
# users, and no sync between them: instance A = realm-a/region-a/zone-a (the default realm,
# so a plain `radosgw-admin -c $CONF ...` acts on it), instance B = realm-b/region-b/zone-b.
# Extra storage classes on the default placement target, so that
# x-amz-storage-class: STANDARD_IA / GLACIER / ... are accepted (without this RGW
# answers 400 InvalidStorageClass). All classes share the zone's STANDARD data pool
# (RGW_SC_SEPARATE_POOLS=1 gives each class its own pool, as a real deployment would).
STORAGE_CLASSES=${RGW_STORAGE_CLASSES:-STANDARD_IA ONEZONE_IA INTELLIGENT_TIERING GLACIER DEEP_ARCHIVE GLACIER_IR REDUCED_REDUNDANCY}


setup_zone() { # $1 = a|b  $2 = port
  local id=$1 port=$2 zg=region-$1 zone=zone-$1 def=()
  [ "$id" = a ] && def=(--default)
  $ADMIN realm create --rgw-realm "realm-$id" "${def[@]}" >/dev/null
  $ADMIN zonegroup create --rgw-realm "realm-$id" --rgw-zonegroup "$zg" --master "${def[@]}" \
    --endpoints "http://127.0.0.1:$port" >/dev/null
  $ADMIN zone create --rgw-realm "realm-$id" --rgw-zonegroup "$zg" --rgw-zone "$zone" --master "${def[@]}" \
    --endpoints "http://127.0.0.1:$port" >/dev/null
  for sc in $STORAGE_CLASSES; do
    local pool=$zone.rgw.buckets.data
    [ "${RGW_SC_SEPARATE_POOLS:-0}" = 1 ] && pool=$zone.rgw.$(echo "$sc" | tr 'A-Z_' 'a-z-').data
    # shellcheck disable=SC2046
    $ADMIN $(zargs "$id") zonegroup placement add \
      --placement-id default-placement --storage-class "$sc" >/dev/null
    # shellcheck disable=SC2046
    $ADMIN $(zargs "$id") zone placement add \
      --placement-id default-placement --storage-class "$sc" --data-pool "$pool" >/dev/null
  done
  # committing from the master zone itself keeps radosgw-admin from trying to reach the
  # (not yet running) gateway over HTTP
  # shellcheck disable=SC2046
  $ADMIN $(zargs "$id") period update --commit >/dev/null
}

wait_port() { # $1 port $2 name
  for _ in $(seq 1 240); do port_answers "$1" && return 0; sleep 0.5; done
  die "RGW $2 did not answer on port $1 (see $RGW_DIR/log/client.rgw.$2.log)"
}

make_user() { # $1 = a|b  $2 uid  $3 access  $4 secret
  # shellcheck disable=SC2046
  $ADMIN $(zargs "$1") user create --uid "$2" --display-name "$2" \
    --access-key "$3" --secret-key "$4" >/dev/null
}

log "configuring realm/zonegroup/zone"
setup_zone a "$RGW_PORT"
[ "$RGW_INSTANCES" = 2 ] && setup_zone b "$RGW_PORT_B"
start_rgw a "$RGW_PORT"
[ "$RGW_INSTANCES" = 2 ] && start_rgw b "$RGW_PORT_B"
wait_port "$RGW_PORT" a
for _ in $(seq 1 40); do tls_answers && break; sleep 0.25; done
tls_answers \
  || die "RGW a does not answer over HTTPS on $RGW_TLS_PORT (see $RGW_DIR/log/client.rgw.a.log)"
log "RGW a answers on $RGW_PORT and over HTTPS on $RGW_TLS_PORT after $(elapsed)s"
make_user a tester "$RGW_ACCESS_KEY" "$RGW_SECRET_KEY"
# second account of gateway A: ACL grants, AccessControlTranslation (tests/cli/object_lock_test.sh)
make_user a tester-other "$RGW_ACCESS_KEY_OTHER" "$RGW_SECRET_KEY_OTHER"
# gateway S: zone A with STS; roles user tester may assume there: ferry-test may do anything in
# S3, ferry-readonly only read
start_rgw s "$RGW_STS_PORT"
make_role() { # $1 role  $2 actions (JSON list)
  local trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/tester"]},"Action":["sts:AssumeRole"]}]}'
  $ADMIN role create --role-name="$1" --path=/ --assume-role-policy-doc="$trust" >/dev/null
  $ADMIN role-policy put --role-name="$1" --policy-name=s3 \
    --policy-doc="{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":$2,\"Resource\":\"arn:aws:s3:::*\"}]}" >/dev/null
}
make_role ferry-test '["s3:*"]'
make_role ferry-readonly '["s3:GetObject","s3:ListBucket","s3:GetBucketLocation","s3:ListAllMyBuckets"]'
wait_port "$RGW_STS_PORT" s
if [ "$RGW_INSTANCES" = 2 ]; then
  wait_port "$RGW_PORT_B" b
  log "RGW b answers on $RGW_PORT_B after $(elapsed)s"
  make_user b tester-b "$RGW_ACCESS_KEY_B" "$RGW_SECRET_KEY_B"
fi
log "ready after $(elapsed)s"
print_info
echo "RGW_STARTED=1"
