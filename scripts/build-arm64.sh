#!/usr/bin/env bash
# Cross-build the ferry command for arm64 (aarch64, e.g. AWS Graviton) into build-arm64/ and make
# its Debian package there (ferry_<version>_arm64.deb) with the CPack configuration of the amd64
# one (cmake/Package.cmake).
#
#   bash scripts/install-deps.sh arm64      # once: cross toolchain, qemu-user, arm64 -dev packages
#   bash scripts/build-arm64.sh             # Release, unity libraries (as test-all's build/)
#
# Debian 12 cannot install the arm64 libisal2, libisal-dev and libpq-dev beside the amd64 ones
# (they are not Multi-Arch: same; apt would REMOVE the amd64 ones the main build needs). So:
# libisal2's arm64 package is unpacked (apt-get download, dpkg-deb -x) into build-arm64/deps/root
# and linked from there; PostgreSQL's arch-independent headers of the amd64 libpq-dev are used with
# libpq5:arm64 (Multi-Arch: same), which ferry loads at run time only (src/base/shared_library.h).
# Warnings are not errors here: the amd64 build (-Werror) gates them. GCC 12's -O3 reported a
# -Wmaybe-uninitialized in src/events/text.cc (ParseEventTime's y, through std::chrono inlining)
# that the amd64 RelWithDebInfo build does not see; its fields are initialized since, and -Werror
# here waits for a cross build that shows no other.
# JOBS (default 2) and NICE (default 0) set the build's parallelism and priority.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[build-arm64 %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
dir=build-arm64
command -v aarch64-linux-gnu-g++ >/dev/null || die "no aarch64-linux-gnu-g++: bash scripts/install-deps.sh arm64"
command -v qemu-aarch64 >/dev/null || die "no qemu-aarch64: bash scripts/install-deps.sh arm64"
arch_lib=/usr/lib/aarch64-linux-gnu
[ -e $arch_lib/libpq.so.5 ] || die "no arm64 libpq5: bash scripts/install-deps.sh arm64"

deps=$dir/deps/root
if [ ! -e $deps$arch_lib/libisal.so.2 ]; then
  log "unpacking libisal2:arm64 into $deps"
  mkdir -p $dir/deps
  (cd $dir/deps && apt-get download libisal2:arm64 >/dev/null 2>&1) || die "apt-get download libisal2:arm64 failed"
  dpkg-deb -x $dir/deps/libisal2_*_arm64.deb $deps
fi
# the amd64 package's Depends (package names are the same on arm64): cpack of build/ into a
# temporary folder (needs build/src/cli/ferry and its manual page, as package_test.sh)
[ -f build/CPackConfig.cmake ] || die "no build/CPackConfig.cmake: configure and build build/ (ferry ferry_man) first"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && cpack -G DEB --config "$OLDPWD/build/CPackConfig.cmake" -B "$tmp/out" >/dev/null) ||
  die "cpack of the amd64 package failed"
depends=$(dpkg-deb -f "$tmp"/out/ferry_*_amd64.deb Depends)
log "Depends of the amd64 package: $depends"
T0=$SECONDS
log "configure ($dir, Release, unity libraries, toolchain cmake/toolchain-aarch64.cmake)"
cmake -S . -B $dir -G Ninja -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-aarch64.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DFERRY_LIB_UNITY=ON -DFERRY_WERROR=OFF \
  -DISAL_LIB="$PWD/$deps$arch_lib/libisal.so.2" -DPostgreSQL_LIBRARY=$arch_lib/libpq.so.5 \
  -DFERRY_DEB_DEPENDS="$depends" >/dev/null
log "build of ferry and its manual page (-j${JOBS:-2}, nice ${NICE:-0})"
nice -n "${NICE:-0}" cmake --build $dir -j"${JOBS:-2}" --target ferry ferry_man
log "cpack (arm64 .deb)"
(cd $dir && cpack -G DEB >/dev/null)
log "done in $((SECONDS - T0)) s: $(ls $dir/ferry_*_arm64.deb)"
