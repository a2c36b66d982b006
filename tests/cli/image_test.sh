#!/usr/bin/env bash
# The container image (scripts/build-image.sh, docs/design/image.md): built from the project's
# .deb (cpack, as tests/cli/package_test.sh does) or reused from FERRY_TEST_IMAGE_DIR (a
# build-image.sh --out DIR of the same CI run: its image.env), its config read (non-root user,
# entrypoint, volume, labels, health check), and its root run: with podman when it can run
# containers here, and always unpacked by umoci and run with chroot as uid 65532 in a mount
# namespace of its own, the root read-only but for tmpfs on /tmp and /var/lib/ferry (as
# deploy/kubernetes/ runs it): `ferry --version`, a write to the root refused, and one copy of a
# local folder in the root to an RGW bucket and back, byte-identical. Reports the image's size.
# Needs root (mmdebstrap, chroot, mounts), mmdebstrap and umoci (install-deps.sh image), RGW.
set -euo pipefail
source "$(dirname "$0")/testlib.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$(dirname "$FERRY_BIN")/../.." && pwd)
for tool in mmdebstrap umoci unshare chroot python3; do
  command -v "$tool" > /dev/null || { echo "FAIL - $tool is not installed (install-deps.sh image)"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "FAIL - needs root (mmdebstrap, chroot, mounts)"; exit 1; }

# the image: reused, or built (the .debs downloaded kept under FERRY_TEST_TMPDIR only)
if [ -n "${FERRY_TEST_IMAGE_DIR:-}" ] && [ -f "$FERRY_TEST_IMAGE_DIR/image.env" ]; then
  IMG=$FERRY_TEST_IMAGE_DIR
  echo "  reusing the image of $IMG"
else
  IMG=$WORK/image
  t=$SECONDS
  check "scripts/build-image.sh builds it" bash -c "bash '$ROOT/scripts/build-image.sh' --build '$BUILD' \
    --out '$IMG' --cache '${FERRY_TEST_TMPDIR:-$WORK}/image-debs' > '$WORK/build.log' 2>&1 || { tail -n 40 '$WORK/build.log'; exit 1; }"
  echo "  built in $((SECONDS - t)) s ($(grep -o 'mmdebstrap took [0-9]* s' "$WORK/build.log" || true))"
fi
[ -f "$IMG/image.env" ] || { echo "$FAILS check(s) failed"; exit 1; }
source "$IMG/image.env"
V=$FERRY_IMAGE_VERSION
check "an OCI layout and an oci-archive" bash -c "[ -f '$FERRY_IMAGE_LAYOUT/oci-layout' ] && tar -tf '$FERRY_IMAGE_ARCHIVE' | grep -qx './index.json'"
check "umoci lists its tag $V" bash -c "umoci ls --layout '$FERRY_IMAGE_LAYOUT' | grep -qx '$V'"

# the config, as a runtime reads it: index -> manifest -> config
python3 - "$FERRY_IMAGE_LAYOUT" "$V" > "$WORK/config.json" <<'PY'
import json, os, sys
layout, tag = sys.argv[1], sys.argv[2]
def blob(digest): return json.load(open(os.path.join(layout, "blobs", *digest.split(":", 1))))
index = json.load(open(os.path.join(layout, "index.json")))
entry = next(m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag)
print(json.dumps(blob(blob(entry["digest"])["config"]["digest"])))
PY
cfg() { python3 -c "import json,sys; c=json.load(open('$WORK/config.json')); print(eval(sys.argv[1]))" "$1"; }
check "user 65532:65532 (not root)" [ "$(cfg 'c["config"]["User"]')" = 65532:65532 ]
check "entrypoint /usr/bin/ferry" [ "$(cfg 'c["config"]["Entrypoint"]')" = "['/usr/bin/ferry']" ]
check "volume /var/lib/ferry, HOME there" [ "$(cfg 'list(c["config"]["Volumes"]) + [e for e in c["config"]["Env"] if e.startswith("HOME=")]')" = "['/var/lib/ferry', 'HOME=/var/lib/ferry']" ]
check "health check: ferry --version" [ "$(cfg 'c["config"]["Healthcheck"]["Test"]')" = "['CMD', '/usr/bin/ferry', '--version']" ]
check "labels: version $V, title ferry" bash -c "[ \"$(cfg 'c["config"]["Labels"]["org.opencontainers.image.version"]')\" = '$V' ] && [ \"$(cfg 'c["config"]["Labels"]["org.opencontainers.image.title"]')\" = ferry ]"
REVISION=$(cfg 'c["config"]["Labels"]["org.opencontainers.image.revision"]')

# podman, where it can run containers here (this sandbox: crun's setrlimit is refused)
if command -v podman > /dev/null; then
  podman load -q -i "$FERRY_IMAGE_ARCHIVE" > "$WORK/podman.log" 2>&1 || true
  NAME=$(sed -n 's/^Loaded image: //p' "$WORK/podman.log")
  check "podman load names it ferry:$V ($NAME)" bash -c "case '$NAME' in */ferry:$V) ;; *) exit 1 ;; esac"
  if [ -n "$NAME" ] && podman run --rm --read-only --network none "$NAME" --version > "$WORK/podman.out" 2>> "$WORK/podman.log"; then
    check "podman run --read-only ferry:$V --version" grep -q "^ferry $V " "$WORK/podman.out"
  else
    echo "  podman cannot run it here: $(tail -n 1 "$WORK/podman.log")"
  fi
  [ -z "$NAME" ] || podman rmi -f "$NAME" > /dev/null 2>&1 || true
fi

# the root, unpacked as a runtime would, and run in a mount namespace that ends with it
umoci unpack --image "$FERRY_IMAGE_LAYOUT:$V" "$WORK/bundle" > /dev/null
R=$WORK/bundle/rootfs
check "no shell in the image" bash -c "[ ! -e '$R/bin/sh' ] && [ ! -e '$R/bin/bash' ]"
check "the CA bundle (ca-certificates, every certificate)" bash -c "[ \$(grep -c 'BEGIN CERTIFICATE' '$R/etc/ssl/certs/ca-certificates.crt') -ge 100 ]"
B=$(new_bucket ra)
mkdir -p "$WORK/etc-ferry" "$WORK/src/d"
cp "$CONF" "$WORK/etc-ferry/ferry.toml"
head -c 9437184 /dev/urandom > "$WORK/src/big.bin"  # above one part: a multipart upload
for i in 1 2 3; do echo "object $i" > "$WORK/src/d/o$i.txt"; done
: > "$WORK/src/empty"
export R WORK B
in_namespace() {  # runs in its own mount namespace: every mount ends with it
  set -eu
  local M=$WORK/mnt
  mkdir -p "$M"
  mount --bind "$R" "$M" && mount -o remount,bind,ro "$M"
  mount -t tmpfs -o mode=0755 dev "$M/dev"
  mknod -m 666 "$M/dev/null" c 1 3 && mknod -m 666 "$M/dev/zero" c 1 5
  mknod -m 666 "$M/dev/urandom" c 1 9 && mknod -m 666 "$M/dev/random" c 1 8
  mount -t proc proc "$M/proc"
  mount -t tmpfs -o mode=1777 tmp "$M/tmp"
  mount -t tmpfs -o uid=65532,gid=65532,mode=0750 state "$M/var/lib/ferry"
  mount --bind "$WORK/etc-ferry" "$M/etc/ferry" && mount -o remount,bind,ro "$M/etc/ferry"
  cp -a "$WORK/src" "$M/var/lib/ferry/src" && chown -R 65532:65532 "$M/var/lib/ferry/src"
  as_ferry() {  # the image's environment (its config's Env) and the keys, nothing of this shell's
    # (env and chroot are this machine's: the image has neither)
    env -i HOME=/var/lib/ferry PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      RA_KEY="$RA_KEY" RA_SECRET="$RA_SECRET" \
      chroot --userspec=65532:65532 "$M" /usr/bin/ferry --config /etc/ferry/ferry.toml "$@"
  }
  echo "version: $(as_ferry --version | head -n 1)"
  # read-only even to root (the mount, not the files' owners), and so to ferry
  if touch "$M/probe" 2> /dev/null; then echo "root: writable"; else echo "root: read-only"; fi
  as_ferry cp /var/lib/ferry/src /usr/local/x --no-progress > "$WORK/ro.log" 2>&1 || true
  grep -qi "read-only file system" "$WORK/ro.log" && echo "ferry: read-only file system"
  as_ferry cp /var/lib/ferry/src "ra:$B/img/" --no-progress > "$WORK/up.log" 2>&1 && echo "up: ok"
  as_ferry cp "ra:$B/img/" /tmp/back --no-progress > "$WORK/down.log" 2>&1 && echo "down: ok"
  if diff -r "$WORK/src" "$M/tmp/back" > "$WORK/diff.log" 2>&1; then echo "identical: yes"; fi
  ls -A "$M/var/lib/ferry" | tr '\n' ' ' | sed 's/^/state: /'; echo
}
export -f in_namespace
unshare --mount --propagation private bash -c in_namespace > "$WORK/inside.log" 2>&1 || true
inside() { grep -q "^$1" "$WORK/inside.log" || { cat "$WORK/inside.log"; cat "$WORK"/up.log "$WORK"/down.log "$WORK"/diff.log 2>/dev/null; return 1; }; }
check "ferry --version as uid 65532 names $V and the label's commit ($REVISION)" inside "version: ferry $V (commit $REVISION)"
check "the root is read-only (even to root)" inside "root: read-only"
check "  ferry's copy into /usr/local refused: read-only file system" inside "ferry: read-only file system"
check "a folder in the image copied to ra:$B as uid 65532" inside "up: ok"
check "  and back to /tmp" inside "down: ok"
check "  byte-identical (4 files, 9 MiB multipart)" inside "identical: yes"
sed -n 's/^state: /  in \/var\/lib\/ferry after the copies: /p' "$WORK/inside.log"
check "nothing left mounted" bash -c "! grep -q ' $WORK/mnt' /proc/mounts"

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "  image ferry:$V: layer $(mib "$FERRY_IMAGE_LAYER_BYTES") compressed, root $(mib "$FERRY_IMAGE_ROOTFS_BYTES") unpacked, oci-archive $(mib "$(stat -c %s "$FERRY_IMAGE_ARCHIVE")")"
finish
