#!/usr/bin/env bash
# The Debian package (cmake/Package.cmake, docs/design/operate.md "Package"): cpack makes
# ferry_<version>_amd64.deb from the build; its Depends names the package of every library the
# binary needs, those it links (NEEDED) and those it loads on first use (dlopen: libcurl, libpq,
# libmicrohttpd); it holds the command, the manual page, the systemd units and the docs; the
# manual page (generated from the CLI definitions) renders without a groff warning and names
# every command; `dpkg -i` installs it, the installed ferry runs (`ferry --version`, `man ferry`),
# `dpkg -r` removes it again. Needs root (CI runs as root) and no server.
set -euo pipefail
: "${FERRY_BIN:?FERRY_BIN not set: run through scripts/test-all.sh}"
BUILD=$(cd "$(dirname "$FERRY_BIN")/../.." && pwd)
WORK=$(mktemp -d /tmp/ferry-cli-test.XXXXXX)
installed_here=0
cleanup() {
  if [ "$installed_here" = 1 ]; then dpkg -r ferry > /dev/null 2>&1 || echo "dpkg -r ferry failed"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
source "$(dirname "$0")/checklib.bash"
for tool in cpack dpkg dpkg-deb groff man; do
  command -v "$tool" > /dev/null || { echo "FAIL - $tool is not installed"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "FAIL - dpkg -i needs root"; exit 1; }

check "the manual page is built (ferry_man)" cmake --build "$BUILD" --target ferry_man
check "cpack makes the package" bash -c "cd '$WORK' && cpack -G DEB --config '$BUILD/CPackConfig.cmake' -B '$WORK/out' > cpack.log 2>&1 || { cat cpack.log; exit 1; }"
VERSION=$(sed -n 's/^project(ferry VERSION \([0-9.]*\).*/\1/p' "$BUILD/../CMakeLists.txt" 2>/dev/null || true)
[ -n "$VERSION" ] || VERSION=$(grep -m1 CMAKE_PROJECT_VERSION: "$BUILD/CMakeCache.txt" | cut -d= -f2)
DEB=$WORK/out/ferry_${VERSION}_amd64.deb
check "named ferry_${VERSION}_amd64.deb" [ -f "$DEB" ]
[ -f "$DEB" ] || { echo "$FAILS check(s) failed"; exit 1; }
dpkg-deb -f "$DEB" > "$WORK/control"
check "control: Package ferry, Architecture amd64, Version $VERSION" \
  bash -c "grep -qx 'Package: ferry' '$WORK/control' && grep -qx 'Architecture: amd64' '$WORK/control' && grep -qx 'Version: $VERSION' '$WORK/control'"
depends=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed -E 's/^ *//; s/ .*//')
echo "  Depends: $(echo $depends)"

# the packages the binary's libraries come from
pkg_of() { { dpkg -S "$1" 2>/dev/null || true; } | sed -n '1s/:.*//p'; }
needed=$(objdump -p "$FERRY_BIN" | awk '/NEEDED/ { print $2 }')
loaded=$(strings -n 6 "$FERRY_BIN" | grep -E '^lib[a-z0-9_+-]+\.so\.[0-9]+$' | sort -u)
check "the binary loads libcurl, libpq and libmicrohttpd on first use (control)" \
  bash -c "[ \$(echo '$loaded' | grep -cE '^(libcurl|libpq|libmicrohttpd)\.') = 3 ]"
ldconfig -p > "$WORK/ldcache"
lib_path() { awk -v l="$1" '$1 == l && /x86-64/ { print $NF; exit }' "$WORK/ldcache"; }
missing=()
for lib in $needed $loaded; do
  path=$(lib_path "$lib")
  [ -n "$path" ] || { missing+=("$lib(not found)"); continue; }
  pkg=$(pkg_of "$(readlink -f "$path")")
  [ -n "$pkg" ] || pkg=$(pkg_of "$path")
  case "$pkg" in libc6|libgcc-s1|libstdc++6) continue ;; esac  # essential, or from the toolchain
  # (not `echo | grep -q`: under pipefail, grep leaving before echo's last write failed it)
  grep -qx "$pkg" <<< "$depends" || missing+=("$lib($pkg)")
done
# the toolchain's libraries too (dpkg-shlibdeps names them with their minimum versions)
for pkg in libc6 libstdc++6; do grep -qx "$pkg" <<< "$depends" || missing+=("$pkg"); done
check "Depends names the package of every library the binary needs (missing: ${missing[*]:-none})" [ ${#missing[@]} = 0 ]

dpkg-deb -c "$DEB" | awk '{ print $NF }' | sed 's|^\./|/|' > "$WORK/files"
for f in /usr/bin/ferry /usr/share/man/man1/ferry.1.gz /usr/lib/systemd/system/ferry-serve.service \
         /usr/lib/systemd/system/ferry-worker@.service /usr/share/doc/ferry/copyright \
         /usr/share/doc/ferry/README.md /usr/share/doc/ferry/uplot-LICENSE \
         /usr/share/doc/ferry/examples/grafana/ferry-dashboard.json \
         /usr/share/doc/ferry/examples/kubernetes/ferry-worker-keda.yaml \
         /usr/share/doc/ferry/examples/prometheus/ferry-alerts.yml; do
  check "holds $f" grep -qx "$f" "$WORK/files"
done

# the manual page
dpkg-deb -x "$DEB" "$WORK/root"
PAGE=$WORK/root/usr/share/man/man1/ferry.1.gz
check "the manual page renders without a groff warning" \
  bash -c "zcat '$PAGE' | groff -man -Tutf8 -ww -z 2>&1 | { ! grep .; }"
zcat "$PAGE" | groff -man -Tutf8 2>/dev/null | col -b > "$WORK/page.txt"
commands=$("$FERRY_BIN" --help | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
check "ferry --help lists commands (control)" [ "$(echo "$commands" | wc -l)" -ge 15 ]
absent=()
for c in $commands; do grep -q "^ *ferry $c\b" "$WORK/page.txt" || absent+=("$c"); done
check "the page has a section for every command (absent: ${absent[*]:-none})" [ ${#absent[@]} = 0 ]
check "  and their options (sync --delete, serve --tls-cert, verify --download, config check --env)" \
  bash -c "grep -q -- '--delete' '$WORK/page.txt' && grep -q -- '--tls-cert' '$WORK/page.txt' && grep -q -- '--download' '$WORK/page.txt' && grep -q 'ferry config check' '$WORK/page.txt'"
check "the packaged binary is stripped" bash -c "file '$WORK/root/usr/bin/ferry' | grep -q 'stripped' && ! file '$WORK/root/usr/bin/ferry' | grep -q 'not stripped'"

# install, run, remove
before=$(dpkg-query -W -f '${Status}' ferry 2>/dev/null || true)
check "dpkg -i installs it" dpkg -i "$DEB"
case "$before" in *"install ok installed"*) ;; *) installed_here=1 ;; esac
check "/usr/bin/ferry --version names $VERSION, its commit and libraries" \
  bash -c "/usr/bin/ferry --version | head -1 | grep -q '^ferry $VERSION (commit ' && /usr/bin/ferry --version | grep -q 'built with: libcurl'"
if grep -qs 'path-exclude=/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
  # a minimal image where dpkg leaves out every manual page: the page is read from the package
  check "man reads the page (this dpkg excludes /usr/share/man)" bash -c "man -l '$PAGE' | grep -q 'ferry config check'"
else
  check "man ferry finds the page" bash -c "man -w ferry | grep -q /usr/share/man/man1/ferry.1"
fi
check "the installed command works (config check of a config)" \
  bash -c "printf '[remotes.x]\nendpoint = \"http://127.0.0.1:1\"\n' > '$WORK/f.toml' && /usr/bin/ferry --config '$WORK/f.toml' config check | grep -q ': ok: 1 remote'"
if [ "$installed_here" = 1 ]; then
  check "dpkg -r removes it" dpkg -r ferry
  installed_here=0
  check "  and /usr/bin/ferry is gone" [ ! -e /usr/bin/ferry ]
fi
du -h "$DEB" | awk '{ print "  package size " $1 }'
checks_done
