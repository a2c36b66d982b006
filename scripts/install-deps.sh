#!/usr/bin/env bash
# Install, with apt, what ferry needs on a fresh Debian 12 machine.
#
#   bash scripts/install-deps.sh [GROUP...]      (default: test)
#
# Groups (several may be given; duplicates are fine):
#   build   compiler, CMake/Ninja and the libraries ferry links against (+ GoogleTest); Node.js
#           and npm (the dashboard's page is built with npm, web/), only when the `node` or `npm`
#           command is missing (a node installed otherwise is kept)
#   rgw     Ceph RADOS Gateway and the single-node cluster under it (scripts/rgw-start.sh)
#   pg      PostgreSQL server (scripts/pg-start.sh)
#   swift   OpenStack Swift with its S3 layer and memcached (scripts/swift-start.sh)
#   aws     the AWS CLI v2 (/usr/bin/aws): an independent S3 client for checks and demos
#   prom    promtool (Debian's prometheus package; no smaller one ships it): the checks and unit
#           tests of the alerting rules in deploy/prometheus/ (tests/cli/alert_rules_test.sh);
#           prometheus-alertmanager (amtool, and the end-to-end alert of alerts_e2e_test.sh)
#   bench   the peers of bench/bench-sync.sh and bench-codec.sh: rclone, AWS CLI, GNU time
#           (/usr/bin/time), the zstd CLI
#   browser Chromium (/usr/bin/chromium), driven headless by tests/cli/dashboard_test.sh
#   san     clang 14 with its sanitizer and libFuzzer runtimes and llvm-symbolizer: the ASan/UBSan,
#           TSan and fuzzing builds (scripts/lib/sanitizers.sh, scripts/fuzz.sh)
#   tools   rclone (tests/cli/verify_test.sh checks its copies) and systemd (systemd-analyze of
#           deploy/systemd/ in tests/cli/systemd_units_test.sh)
#   azurite Azurite (npm `azurite`, Microsoft's Azure Storage emulator) under $AZURITE_PREFIX (default
#           ~/.local/share/ferry-azurite) with the npm of the build group: scripts/azurite-start.sh
#   gcs     the Cloud Storage emulator of firebase-tools (npm, pinned 13.35.1) under
#           $GCS_EMULATOR_PREFIX (default ~/.local/share/ferry-gcs-emulator): only the packages its
#           storage emulator loads (scripts/gcs-emulator/package-lock.json), with the npm of the
#           build group: scripts/gcs-emulator-start.sh
#   image   mmdebstrap and umoci: the container image (scripts/build-image.sh,
#           tests/cli/image_test.sh)
#   arm64   the arm64 cross build (scripts/build-arm64.sh): g++-aarch64-linux-gnu, qemu-user and the
#           arm64 (multiarch) -dev packages of the libraries ferry links; adds dpkg's arm64
#           architecture and runs apt-get update once. 91 s and about 540 MB here (129 MB fetched).
#           Never libpq-dev, libisal-dev or libisal2 for arm64: they are not Multi-Arch: same and
#           apt would REMOVE the amd64 ones (build-arm64.sh unpacks libisal2:arm64 itself)
#   test    build + rgw + pg + swift + aws + prom + browser + san + tools + azurite + gcs + image: all
#           scripts/test-all.sh needs
#   demo    build + rgw + aws: everything scripts/demo.sh needs
#   all     all of the above
#
# Packages that are already installed are skipped (dpkg-query), so a second run costs well under
# a second and does not touch the network. `apt-get update` runs only when the package lists are
# empty (fresh image) or when an install fails (stale lists); the install is then retried once.
# Runs as root, or through sudo when it is available.
# Never runs `apt-get autoremove`: on the images we use it removes packages the image itself ships.
set -euo pipefail

log() { printf '[install-deps %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

BUILD_PKGS=(build-essential cmake ninja-build pkg-config g++ libcurl4-openssl-dev libssl-dev
  libzstd-dev libsqlite3-dev libpq-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev
  libpugixml-dev libfmt-dev libisal-dev libboost1.74-dev libgtest-dev libgmock-dev libmicrohttpd-dev
  libhowardhinnant-date-dev zlib1g-dev curl python3)
# curl: rgw-start.sh polls the S3 ports with it; openssl: it makes gateway A's TLS certificate
RGW_PKGS=(radosgw ceph-mon ceph-osd ceph-common curl openssl)
PG_PKGS=(postgresql)
SWIFT_PKGS=(swift-proxy swift-account swift-container swift-object memcached curl)
AWS_PKGS=(awscli)
# copies made by another tool for tests/cli/verify_test.sh (ferry verify against rclone's layouts)
RCLONE_PKGS=(rclone)
# systemd-analyze (verify, security --offline) of the units in deploy/systemd/
# (tests/cli/systemd_units_test.sh); nothing is started through it
SYSTEMD_PKGS=(systemd)
# the Debian package's test (tests/cli/package_test.sh): dpkg-shlibdeps (dpkg-dev) for cpack,
# man and groff to read the manual page, file and binutils (objdump, strings) to inspect the binary
PACKAGE_PKGS=(dpkg-dev man-db groff-base file binutils)
# promtool, and the prometheus server itself for tests/cli/alerts_e2e_test.sh (run by the test on
# loopback ports, never as the Debian service); --no-install-recommends leaves out the node
# exporter. prometheus-alertmanager: amtool check-config of deploy/prometheus/alertmanager.yml
# and the Alertmanager of the end-to-end alert test
PROM_PKGS=(prometheus prometheus-alertmanager)
# time: the benchmark measures wall/CPU/peak RSS with /usr/bin/time (GNU), not the shell keyword;
# zstd: the CLI bench/bench-codec.sh compares `ferry archive pack` with
BROWSER_PKGS=(chromium)
# llvm-14: llvm-symbolizer, which turns a sanitizer's stack into file:line
SAN_PKGS=(clang-14 libclang-rt-14-dev llvm-14 lld)
# the root extracted from Debian packages by mmdebstrap, made an OCI image by umoci
IMAGE_PKGS=(mmdebstrap umoci)
# the arm64 cross build: the -dev packages ferry links, for arm64 (header-only ones of the build
# group serve both architectures); libpq5 only (see the header); gtest because CMakeLists finds it
ARM64_PKGS=(g++-aarch64-linux-gnu qemu-user file libcurl4-openssl-dev:arm64 libssl-dev:arm64
  libzstd-dev:arm64 libsqlite3-dev:arm64 libmicrohttpd-dev:arm64 libfmt-dev:arm64
  libpugixml-dev:arm64 zlib1g-dev:arm64 libtomlplusplus-dev:arm64 libhowardhinnant-date-dev:arm64
  libgtest-dev:arm64 libgmock-dev:arm64 libpq5:arm64)
BENCH_PKGS=(rclone awscli time zstd iproute2)  # iproute2: ip and tc for bench/lib/wan.sh

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(test)
want_azurite=0
AZURITE_PREFIX=${AZURITE_PREFIX:-$HOME/.local/share/ferry-azurite}
# Azurite comes from the npm registry (no Debian package), into a prefix of its own: no root, no
# global node_modules; a second run finds its azurite-blob and does nothing (about a minute once)
install_azurite() {
  [ "$want_azurite" = 1 ] || return 0
  [ -x "$AZURITE_PREFIX/node_modules/.bin/azurite-blob" ] && return 0
  command -v npm >/dev/null || die "npm missing: install the build group first (azurite needs it)"
  log "npm install azurite into $AZURITE_PREFIX"
  mkdir -p "$AZURITE_PREFIX"
  npm install --prefix "$AZURITE_PREFIX" --no-audit --no-fund azurite >&2
}
want_gcs=0
GCS_EMULATOR_PREFIX=${GCS_EMULATOR_PREFIX:-$HOME/.local/share/ferry-gcs-emulator}
GCS_LOCK_DIR=$(cd "$(dirname "$0")" && pwd)/gcs-emulator
# firebase-tools whole is 630 packages (51 s, 24 CPU-s here); its storage emulator loads 228 of
# them: npm ci of the lock of its direct dependencies that it loads (334 packages, 14 s, 17 CPU-s),
# firebase-tools itself unpacked beside them (npm pack, 1 s). A changed lock reinstalls.
install_gcs() {
  [ "$want_gcs" = 1 ] || return 0
  local tools=$GCS_EMULATOR_PREFIX/node_modules/firebase-tools
  if [ -f "$tools/lib/emulator/storage/server.js" ] &&
     cmp -s "$GCS_LOCK_DIR/package-lock.json" "$GCS_EMULATOR_PREFIX/package-lock.json"; then
    return 0
  fi
  command -v npm >/dev/null || die "npm missing: install the build group first (gcs needs it)"
  log "npm ci of the GCS emulator's packages into $GCS_EMULATOR_PREFIX"
  mkdir -p "$GCS_EMULATOR_PREFIX"
  cp "$GCS_LOCK_DIR/package.json" "$GCS_LOCK_DIR/package-lock.json" "$GCS_EMULATOR_PREFIX/"
  (cd "$GCS_EMULATOR_PREFIX" && npm ci --ignore-scripts --no-audit --no-fund --omit=dev >&2)
  local tgz
  tgz=$(cd "$GCS_EMULATOR_PREFIX" && npm pack --silent firebase-tools@13.35.1)
  mkdir -p "$tools"
  tar -xzf "$GCS_EMULATOR_PREFIX/$tgz" -C "$tools" --strip-components=1 package/lib package/package.json
  rm -f "$GCS_EMULATOR_PREFIX/$tgz"
}

wanted=()
want_arm64=0
add_group() {
  case $1 in
    build) wanted+=("${BUILD_PKGS[@]}")
           command -v node >/dev/null || wanted+=(nodejs)
           command -v npm >/dev/null || wanted+=(npm) ;;
    rgw)   wanted+=("${RGW_PKGS[@]}") ;;
    pg)    wanted+=("${PG_PKGS[@]}") ;;
    swift) wanted+=("${SWIFT_PKGS[@]}") ;;
    aws)   wanted+=("${AWS_PKGS[@]}") ;;
    prom)  wanted+=("${PROM_PKGS[@]}") ;;
    bench) wanted+=("${BENCH_PKGS[@]}") ;;
    browser) wanted+=("${BROWSER_PKGS[@]}") ;;
    san)   wanted+=("${SAN_PKGS[@]}") ;;
    image) wanted+=("${IMAGE_PKGS[@]}") ;;
    arm64) wanted+=("${ARM64_PKGS[@]}"); want_arm64=1 ;;
    test)  add_group build; add_group rgw; add_group pg; add_group swift; add_group aws
           add_group prom; add_group browser; add_group san; add_group tools; add_group azurite
           add_group gcs; add_group image ;;
    azurite) want_azurite=1 ;;
    gcs)   want_gcs=1 ;;
    tools) wanted+=("${RCLONE_PKGS[@]}" "${SYSTEMD_PKGS[@]}" "${PACKAGE_PKGS[@]}") ;;
    demo)  add_group build; add_group rgw; add_group aws ;;
    all)   add_group test; add_group bench ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown group '$1' (build rgw pg swift aws prom browser san tools azurite gcs image arm64 bench test demo all)" ;;
  esac
}
for g in "${groups[@]}"; do add_group "$g"; done

# keep only what is not installed yet ("install ok installed" is dpkg's state for a configured package)
missing=()
for p in "${wanted[@]}"; do
  case " ${missing[*]-} " in *" $p "*) continue ;; esac
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  log "all packages of: ${groups[*]} already installed"
  install_azurite
  install_gcs
  exit 0
fi

SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo: cannot install ${missing[*]}"
  SUDO=(sudo)
fi
# sudo resets the environment, so the variable is passed through env; the lock timeout makes
# a concurrent apt/dpkg run wait for us instead of failing at once
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300)

lists_empty() { [ -z "$(find /var/lib/apt/lists -maxdepth 1 -type f -name '*_Packages*' 2>/dev/null | head -n 1)" ]; }

T0=$SECONDS
if [ "$want_arm64" = 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  log "dpkg --add-architecture arm64 (and apt-get update for its package lists)"
  "${SUDO[@]}" dpkg --add-architecture arm64
  "${APT[@]}" update >&2
fi
log "installing ${#missing[@]} package(s): ${missing[*]}"
if lists_empty; then
  log "apt package lists are empty: apt-get update"
  "${APT[@]}" update >&2
fi
if ! "${APT[@]}" install --no-install-recommends "${missing[@]}" >&2; then
  log "install failed; refreshing the package lists and retrying once"
  "${APT[@]}" update >&2
  "${APT[@]}" install --no-install-recommends "${missing[@]}" >&2
fi
log "done in $((SECONDS - T0)) s"
install_azurite
install_gcs
