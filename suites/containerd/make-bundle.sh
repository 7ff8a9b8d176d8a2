#!/usr/bin/env bash
# make-bundle.sh: build an airgap image bundle offline, shaped like the output
# of `k0s airgap bundle-artifacts` (an OCI image layout tarball whose
# index.json entries carry `org.opencontainers.image.ref.name=<full ref>`).
#
# Usage:
#   make-bundle.sh [options] OUTPUT.tar [REF=SOURCE ...]
#
#   REF     a full image reference with a fixed tag, e.g. docker.io/vmtest/busybox:1
#   SOURCE  `busybox`: a busybox-static image (two layers: a shared base with
#           /bin/busybox and its applet links, and a small per-image layer
#           with /etc/vmtest-image and /www/index.html, both holding REF);
#           its default command serves /www with busybox httpd on port 8080,
#           so the same image works as a container that prints what it
#           contains and as a web workload;
#           or a directory: its contents become the single layer (command /bin/sh).
#   Without specs: docker.io/vmtest/busybox:1=busybox docker.io/vmtest/echo:1=busybox
#
# Options:
#   --arch ARCH      OCI architecture of the images (default: this host's);
#                    a foreign one builds a "wrong architecture" bundle
#   --mtime EPOCH    timestamp of every file and of the image configs (default 0)
#   --busybox PATH   the static busybox to pack (default /bin/busybox from the
#                    Debian package busybox-static)
#   --port N         port of the default httpd command (default 8080)
#
# Needs only Debian packages: bash, coreutils, GNU tar, busybox-static.
# The output is byte-for-byte reproducible for the same inputs (sorted
# entries, fixed owners and mtimes, uncompressed layers).
set -euo pipefail

arch=""
mtime=0
busybox=/bin/busybox
port=8080

die() { echo "make-bundle.sh: $*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --arch) arch="${2:?--arch needs a value}"; shift 2 ;;
    --mtime) mtime="${2:?--mtime needs a value}"; shift 2 ;;
    --busybox) busybox="${2:?--busybox needs a value}"; shift 2 ;;
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || die "usage: make-bundle.sh [options] OUTPUT.tar [REF=SOURCE ...]"
output="$1"; shift
specs=("$@")
if [[ ${#specs[@]} -eq 0 ]]; then
  specs=("docker.io/vmtest/busybox:1=busybox" "docker.io/vmtest/echo:1=busybox")
fi
[[ "$mtime" =~ ^[0-9]+$ ]] || die "--mtime must be seconds since the epoch, got '$mtime'"
[[ "$port" =~ ^[0-9]+$ ]] || die "--port must be a number, got '$port'"

# OCI platform of this host (or --arch).
variant=""
if [[ -z "$arch" ]]; then
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    armv7l) arch=arm; variant=v7 ;;
    i?86) arch=386 ;;
    riscv64) arch=riscv64 ;;
    ppc64le) arch=ppc64le ;;
    s390x) arch=s390x ;;
    *) die "unknown machine $(uname -m); pass --arch" ;;
  esac
fi
platform_json="\"architecture\":\"$arch\",\"os\":\"linux\""
[[ -n "$variant" ]] && platform_json+=",\"variant\":\"$variant\""
created="$(date -u -d "@$mtime" +%Y-%m-%dT%H:%M:%SZ)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/layout/blobs/sha256"

# Deterministic tar of the contents of folder $1 into file $2.
det_tar() {
  local dir="$1" out="$2"
  local -a top=()
  mapfile -t top < <(cd "$dir" && LC_ALL=C ls -A)
  [[ ${#top[@]} -gt 0 ]] || die "empty layer folder $dir"
  # Files may be writable only by their owner (umask, mktemp); fix modes so
  # the result does not depend on the caller's umask.
  LC_ALL=C tar -C "$dir" --sort=name --format=gnu --mtime="@$mtime" \
    --owner=0 --group=0 --numeric-owner --mode='u+rwX,go+rX,go-w' \
    -cf "$out" -- "${top[@]}"
}

# Moves file $1 into the blob store; prints "sha256:<hex> <size>".
add_blob() {
  local file="$1" hex size
  hex="$(sha256sum "$file" | cut -d' ' -f1)"
  size="$(stat -c %s "$file")"
  mv -f "$file" "$work/layout/blobs/sha256/$hex"
  echo "sha256:$hex $size"
}

# Digest of an uncompressed layer is also its diff_id.
layer_from_dir() {
  det_tar "$1" "$work/layer.tar"
  add_blob "$work/layer.tar"
}

json_string_ok() {
  [[ "$1" != *[\"\\]* && "$1" != *[[:cntrl:]]* ]]
}

# The busybox base layer, shared by every busybox image of the bundle.
busybox_base=""
make_busybox_base() {
  [[ -x "$busybox" ]] || die "$busybox not found (apt-get install busybox-static)"
  "$busybox" --list >/dev/null 2>&1 || die "$busybox is not a busybox binary"
  local root="$work/busybox-root"
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/www"
  cp "$busybox" "$root/bin/busybox"
  chmod 0755 "$root/bin/busybox"
  local applet
  while read -r applet; do
    [[ -n "$applet" && "$applet" != busybox && "$applet" != */* ]] || continue
    ln -sf busybox "$root/bin/$applet"
  done < <("$busybox" --list | LC_ALL=C sort -u)
  printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  busybox_base="$(layer_from_dir "$root")"
}

index_entries=()
declare -A seen_refs=()
n=0
for spec in "${specs[@]}"; do
  [[ "$spec" == *=* ]] || die "image spec '$spec' is not REF=SOURCE"
  ref="${spec%%=*}"
  source="${spec#*=}"
  json_string_ok "$ref" || die "image reference '$ref' has characters this script does not quote"
  [[ "$ref" == */*:* || "$ref" == */*@* ]] || die "'$ref' is not a full reference with a tag (registry/repo:tag)"
  [[ -z "${seen_refs[$ref]:-}" ]] || die "image reference '$ref' given twice"
  seen_refs[$ref]=1
  n=$((n + 1))

  layers=()
  if [[ "$source" == busybox ]]; then
    [[ -n "$busybox_base" ]] || make_busybox_base
    layers+=("$busybox_base")
    top="$work/top-$n"
    mkdir -p "$top/etc" "$top/www"
    printf '%s\n' "$ref" >"$top/etc/vmtest-image"
    printf 'vmtest image %s\n' "$ref" >"$top/www/index.html"
    layers+=("$(layer_from_dir "$top")")
    cmd="[\"/bin/httpd\",\"-f\",\"-v\",\"-p\",\"$port\",\"-h\",\"/www\"]"
    exposed=",\"ExposedPorts\":{\"$port/tcp\":{}}"
  elif [[ -d "$source" ]]; then
    layers+=("$(layer_from_dir "$source")")
    cmd='["/bin/sh"]'
    exposed=""
  else
    die "source '$source' of $ref is neither 'busybox' nor a directory"
  fi

  diff_ids=""
  layer_descs=""
  for l in "${layers[@]}"; do
    digest="${l% *}"; size="${l#* }"
    diff_ids+="${diff_ids:+,}\"$digest\""
    layer_descs+="${layer_descs:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$digest\",\"size\":$size}"
  done

  printf '{"architecture":"%s","os":"linux"%s,"created":"%s","config":{"Env":["PATH=/bin"],"Cmd":%s,"WorkingDir":"/"%s,"Labels":{"org.opencontainers.image.ref.name":"%s"}},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[{"created":"%s","created_by":"vmtest make-bundle.sh"}]}' \
    "$arch" "${variant:+,\"variant\":\"$variant\"}" "$created" "$cmd" "$exposed" "$ref" "$diff_ids" "$created" \
    >"$work/config.json"
  config="$(add_blob "$work/config.json")"

  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
    "${config% *}" "${config#* }" "$layer_descs" >"$work/manifest.json"
  manifest="$(add_blob "$work/manifest.json")"

  index_entries+=("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"${manifest% *}\",\"size\":${manifest#* },\"annotations\":{\"org.opencontainers.image.ref.name\":\"$ref\"},\"platform\":{$platform_json}}")
done

entries="$(IFS=,; echo "${index_entries[*]}")"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}\n' "$entries" \
  >"$work/layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}\n' >"$work/layout/oci-layout"

mkdir -p "$(dirname "$output")"
det_tar "$work/layout" "$work/bundle.tar"
mv -f "$work/bundle.tar" "$output"
echo "make-bundle.sh: wrote $output with ${#specs[@]} image(s) for linux/$arch${variant:+/$variant}" >&2
