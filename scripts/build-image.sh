#!/usr/bin/env bash
# The container image of ferry (docs/design/image.md), from Debian packages only:
#
#   bash scripts/build-image.sh [--deb FILE] [--out DIR] [--build DIR] [--cache DIR] [--sources FILE]
#
# A Debian 12 root made by mmdebstrap: ferry's own .deb and the packages its Depends names
# (resolved by apt), ca-certificates, base-files, base-passwd, netbase; extracted, with no shell,
# dpkg or apt, documentation, manual pages or translations; ferry's user (uid/gid 65532) and its
# writable /var/lib/ferry; turned into an OCI image by umoci: user 65532:65532, entrypoint
# /usr/bin/ferry, HOME=/var/lib/ferry, a volume /var/lib/ferry, OCI labels with the version and
# commit `ferry --version` prints, and `ferry --version` as its health check. Writes
#   DIR/oci                   the OCI image layout, tag VERSION (umoci, skopeo: DIR/oci:VERSION)
#   DIR/ferry-VERSION.oci.tar the same as an oci-archive named ferry:VERSION (podman load)
#   DIR/image.env             FERRY_IMAGE_VERSION, _LAYOUT, _ARCHIVE, _LAYER_BYTES, _ROOTFS_BYTES
# (DIR: --out, default BUILD/image.) Without --deb the package is made by cpack from the build
# directory (--build, default ./build), as tests/cli/package_test.sh does: ferry and its manual
# page (target ferry_man) must be built. --cache DIR keeps the downloaded .debs for the next run
# (default: none kept). The packages come from the machine's own apt sources (--sources, default
# /etc/apt/sources.list.d/debian.sources, else /etc/apt/sources.list) and its package lists
# (apt-get update runs only when they are missing). SOURCE_DATE_EPOCH (default: the time of the
# last commit) dates the files, the layer and the config: the same inputs give the same layer.
# Needs root (mmdebstrap's root mode; umoci keeps the files' owners), mmdebstrap and umoci
# (scripts/install-deps.sh image).
set -euo pipefail

log() { printf '[build-image %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEB="" OUT="" BUILD=$ROOT/build CACHE="" SOURCES=""
while [ $# -gt 0 ]; do
  case $1 in
    --deb) DEB=${2:?--deb FILE}; shift 2 ;;
    --out) OUT=${2:?--out DIR}; shift 2 ;;
    --build) BUILD=${2:?--build DIR}; shift 2 ;;
    --cache) CACHE=${2:?--cache DIR}; shift 2 ;;
    --sources) SOURCES=${2:?--sources FILE}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (--deb FILE, --out DIR, --build DIR, --cache DIR, --sources FILE)" ;;
  esac
done
OUT=${OUT:-$BUILD/image}
for tool in mmdebstrap umoci dpkg-deb python3; do
  command -v "$tool" > /dev/null || die "$tool is not installed (bash scripts/install-deps.sh image)"
done
[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap's root mode, umoci keeping the files' owners)"
if [ -z "$SOURCES" ]; then
  SOURCES=/etc/apt/sources.list.d/debian.sources
  [ -f "$SOURCES" ] || SOURCES=/etc/apt/sources.list
fi
[ -s "$SOURCES" ] || die "no apt sources in $SOURCES (--sources FILE)"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}

# finish_root ROOT: what the maintainer scripts of an installed system would have made, and no more
finish_root() {
  local r=$1 link target
  rm -rf "$r$WORK" "$r"/dev/* "$r/etc/resolv.conf" "$r/etc/hostname"  # the runtime gives its own
  rm -rf "$r/etc/apt"  # mmdebstrap's apt sources: the image has no apt
  # what a container never reads: docs (their copyright files kept), manual pages, translations
  find "$r/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$r/usr/share/man" "$r/usr/share/info" "$r/usr/share/locale" "$r/usr/share/lintian"
  # base-passwd's postinst: the master files; and ferry's user and group (65532, deploy/kubernetes/)
  cp "$r/usr/share/base-passwd/passwd.master" "$r/etc/passwd"
  cp "$r/usr/share/base-passwd/group.master" "$r/etc/group"
  echo "ferry:x:65532:65532:ferry:/var/lib/ferry:/usr/sbin/nologin" >> "$r/etc/passwd"
  echo "ferry:x:65532:" >> "$r/etc/group"
  install -d -o 65532 -g 65532 -m 0750 "$r/var/lib/ferry"
  install -d -m 0755 "$r/etc/ferry"  # where the config is mounted
  # ca-certificates' postinst: every certificate it ships trusted (its default), the bundle
  # /etc/ssl/certs/ca-certificates.crt and the hashed links made by its own update-ca-certificates
  (cd "$r/usr/share/ca-certificates" && find . -name '*.crt' | sed 's|^\./||' | LC_ALL=C sort) \
    > "$r/etc/ca-certificates.conf"
  mkdir -p "$r/etc/ssl/certs" "$r/usr/local/share/ca-certificates" "$r/etc/ca-certificates/update.d"
  sh "$r/usr/sbin/update-ca-certificates" --fresh --certsconf "$r/etc/ca-certificates.conf" \
    --certsdir "$r/usr/share/ca-certificates" --localcertsdir "$r/usr/local/share/ca-certificates" \
    --etccertsdir "$r/etc/ssl/certs" --hooksdir "$r/etc/ca-certificates/update.d" > /dev/null
  for link in "$r"/etc/ssl/certs/*; do  # its links name the root's files by their path here
    [ -L "$link" ] || continue
    target=$(readlink "$link")
    case $target in "$r"/*) ln -sfn "${target#"$r"}" "$link" ;; esac
  done
  [ -s "$r/etc/ssl/certs/ca-certificates.crt" ] || die "no CA bundle made"
  ldconfig -r "$r"  # libc-bin's trigger: the loader's cache
  rm -f "$r/var/cache/ldconfig/aux-cache"
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-image.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
T0=$SECONDS

# the package: given, or made by cpack from the build
if [ -z "$DEB" ]; then
  command -v cpack > /dev/null || die "cpack is not installed (CMake)"
  [ -x "$BUILD/src/cli/ferry" ] || die "no $BUILD/src/cli/ferry: build ferry first (or --deb FILE)"
  [ -f "$BUILD/src/cli/ferry.1.gz" ] || die "no manual page: cmake --build $BUILD --target ferry_man (or --deb FILE)"
  log "cpack: the .deb of $BUILD"
  (cd "$WORK" && cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/cpack" > cpack.log 2>&1) \
    || { cat "$WORK/cpack.log" >&2; die "cpack failed"; }
  DEB=$(ls "$WORK"/cpack/ferry_*.deb)
fi
[ -f "$DEB" ] || die "no package $DEB"
[ "$(dpkg-deb -f "$DEB" Package)" = ferry ] || die "$DEB is not ferry's package"
VERSION=$(dpkg-deb -f "$DEB" Version)
# mmdebstrap's apt installs the package inside the root: it must be at the same path on both sides
mkdir -p "$WORK/debs"
cp "$DEB" "$WORK/debs/"
DEB_IN=$WORK/debs/$(basename "$DEB")

BUNDLE=$WORK/bundle
LAYOUT=$OUT/oci
ARCHIVE=$OUT/ferry-$VERSION.oci.tar
mkdir -p "$OUT"
rm -rf "$LAYOUT" "$ARCHIVE"
umoci init --layout "$LAYOUT"
umoci new --image "$LAYOUT:$VERSION"
umoci unpack --image "$LAYOUT:$VERSION" "$BUNDLE" > /dev/null

# The root, into the bundle's (empty) rootfs: mmdebstrap extracts ferry's package, the packages its
# Depends name (resolved by apt, recursively), ca-certificates and base-files/base-passwd; no
# maintainer script runs, so no shell or dpkg is needed in the image (and none is there): what
# those scripts would have made (the CA bundle, /etc/passwd, the loader's cache) is made below.
mm_args=(--mode=root --format=directory --variant=extract
  --include="ca-certificates,base-files,base-passwd,netbase,$DEB_IN"
  # merged /usr as Debian 12 has it (/bin, /lib, /sbin links into /usr)
  --setup-hook=/usr/share/mmdebstrap/hooks/merged-usr/setup00.sh
  --setup-hook="mkdir -p \"\$1$WORK/debs\" && cp '$DEB_IN' \"\$1$WORK/debs/\""
  # dpkg's record of what is there (for image scanners), as installed: every extracted package
  --extract-hook='for d in $MMDEBSTRAP_ESSENTIAL; do dpkg-deb -f "$1/$d" | sed "1a Status: install ok installed"; echo; done > "$1/var/lib/dpkg/status"')
if [ -n "$CACHE" ]; then
  mkdir -p "$CACHE"
  mm_args+=(--setup-hook='mkdir -p "$1/var/cache/apt/archives/"'
    --setup-hook="sync-in '$CACHE' /var/cache/apt/archives/"
    --extract-hook="sync-out /var/cache/apt/archives '$CACHE'")
fi
# the machine's package lists, when they are those of these sources: no apt-get update
if [ "$SOURCES" = /etc/apt/sources.list.d/debian.sources ] || [ "$SOURCES" = /etc/apt/sources.list ]; then
  if compgen -G '/var/lib/apt/lists/*_Packages*' > /dev/null; then
    mm_args+=(--skip=update
      --setup-hook='mkdir -p "$1/var/lib/apt/lists/partial" && cp /var/lib/apt/lists/*Release* /var/lib/apt/lists/*_Packages* "$1/var/lib/apt/lists/"')
  fi
fi
log "mmdebstrap: Debian 12, $(basename "$DEB") and its Depends, ca-certificates (sources: $SOURCES)"
T1=$SECONDS
R=$BUNDLE/rootfs
mmdebstrap "${mm_args[@]}" bookworm "$R" "$SOURCES" > "$WORK/mmdebstrap.log" 2>&1 \
  || { tail -n 30 "$WORK/mmdebstrap.log" >&2; die "mmdebstrap failed (stale package lists? apt-get update)"; }
log "mmdebstrap took $((SECONDS - T1)) s ($(wc -l < "$R/var/lib/dpkg/status" | xargs) status lines)"
finish_root "$R"
# every file dated SOURCE_DATE_EPOCH at the latest (those made here too): the layer's tar the same
find "$R" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0r touch -h -d "@$SOURCE_DATE_EPOCH"
# the version and commit, from the binary itself
line=$(chroot --userspec=65532:65532 "$R" /usr/bin/ferry --version | head -n 1)
case $line in "ferry $VERSION (commit "*) ;; *) die "the image's ferry --version says '$line', not $VERSION" ;; esac
COMMIT=${line#*(commit }
COMMIT=${COMMIT%)}
ROOTFS_BYTES=$(du -sb "$R" | cut -f1)

CREATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
umoci repack --image "$LAYOUT:$VERSION" --history.created "$CREATED" \
  --history.created_by "scripts/build-image.sh (mmdebstrap: ferry_${VERSION}.deb and its Depends)" "$BUNDLE"
umoci config --image "$LAYOUT:$VERSION" --created "$CREATED" --history.created "$CREATED" \
  --history.created_by "scripts/build-image.sh: config" \
  --architecture amd64 --os linux \
  --config.user 65532:65532 --config.entrypoint /usr/bin/ferry --config.cmd --help \
  --config.workingdir /var/lib/ferry --config.volume /var/lib/ferry \
  --config.env HOME=/var/lib/ferry \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.label org.opencontainers.image.title=ferry \
  --config.label "org.opencontainers.image.description=ferry: S3 replication and migration" \
  --config.label "org.opencontainers.image.version=$VERSION" \
  --config.label "org.opencontainers.image.revision=$COMMIT" \
  --config.label "org.opencontainers.image.created=$CREATED" \
  --config.label "org.opencontainers.image.base.name=debian:bookworm"
# The health check: the OCI config has no field for one; Docker's "Healthcheck" is added to it
# (Docker reads it, other runtimes ignore it; Kubernetes uses the manifests' probes instead).
# The config blob changes, so do the manifest and the index entry that name it by digest.
python3 - "$LAYOUT" "$VERSION" <<'PY'
import hashlib, json, os, sys
layout, tag = sys.argv[1], sys.argv[2]
def blob_path(digest): return os.path.join(layout, "blobs", *digest.split(":", 1))
def put_blob(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(blob_path(digest), "wb") as f: f.write(data)
    return digest, len(data)
def canonical(doc): return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
with open(os.path.join(layout, "index.json")) as f: index = json.load(f)
entry = next(m for m in index["manifests"]
             if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
with open(blob_path(entry["digest"])) as f: manifest = json.load(f)
with open(blob_path(manifest["config"]["digest"])) as f: config = json.load(f)
config["config"]["Healthcheck"] = {"Test": ["CMD", "/usr/bin/ferry", "--version"],
                                   "Interval": 30000000000, "Timeout": 10000000000, "Retries": 3}
manifest["config"]["digest"], manifest["config"]["size"] = put_blob(canonical(config))
entry["digest"], entry["size"] = put_blob(canonical(manifest))
with open(os.path.join(layout, "index.json"), "w") as f: f.write(canonical(index).decode())
PY
umoci gc --layout "$LAYOUT"
# The oci-archive: the layout as one tar, its entries in a fixed order and dated
# SOURCE_DATE_EPOCH; its index names the image ferry:VERSION (podman load takes the name from
# there, containerd's import from io.containerd.image.name), where umoci's tag is VERSION alone.
cp -a "$LAYOUT" "$WORK/archive"
python3 - "$WORK/archive/index.json" "$VERSION" <<'PY'
import json, sys
path, version = sys.argv[1], sys.argv[2]
index = json.load(open(path))
for m in index["manifests"]:
    m["annotations"] = {"org.opencontainers.image.ref.name": "ferry:" + version,
                        "io.containerd.image.name": "docker.io/library/ferry:" + version}
open(path, "w").write(json.dumps(index, sort_keys=True, separators=(",", ":")))
PY
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
  -C "$WORK/archive" -cf "$ARCHIVE" .
LAYER_BYTES=$(python3 - "$LAYOUT" "$VERSION" <<'PY'
import json, os, sys
layout, tag = sys.argv[1], sys.argv[2]
index = json.load(open(os.path.join(layout, "index.json")))
entry = next(m for m in index["manifests"]
             if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
manifest = json.load(open(os.path.join(layout, "blobs", *entry["digest"].split(":", 1))))
print(sum(layer["size"] for layer in manifest["layers"]))
PY
)
cat > "$OUT/image.env" <<ENV
FERRY_IMAGE_VERSION=$VERSION
FERRY_IMAGE_LAYOUT=$LAYOUT
FERRY_IMAGE_ARCHIVE=$ARCHIVE
FERRY_IMAGE_LAYER_BYTES=$LAYER_BYTES
FERRY_IMAGE_ROOTFS_BYTES=$ROOTFS_BYTES
ENV
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
log "ferry:$VERSION (commit $COMMIT): layer $(mib "$LAYER_BYTES") compressed, root $(mib "$ROOTFS_BYTES") unpacked, in $((SECONDS - T0)) s"
log "  $LAYOUT:$VERSION and $ARCHIVE (podman load -i $ARCHIVE: ferry:$VERSION)"
