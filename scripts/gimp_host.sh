#!/usr/bin/env bash
# Prepare GIMP 3 for the real-host test (tests/plugin/test_gimp_host.py): directly on Debian 13, or in a Debian 13
# ("trixie") chroot elsewhere (Debian 12 here and in CI). Idempotent; needs root and apt-get.
#   bash scripts/gimp_host.sh [CHROOT_DIR]     (default: $LDL_GIMP_CHROOT or /var/cache/ldl-studio/gimp-trixie)
# Prints the chroot folder ("/" when GIMP runs directly on this machine) on its last line.
#
# Packages: GIMP 3 with its Python (PyGObject) and pytest for the in-GIMP tests; Xvfb, xauth and ImageMagick's
# `import` for the screenshot of GIMP's window. /proc and /dev are mounted into the chroot only inside a private
# mount namespace (unshare), so they go away with the last process even when this script is killed.
set -euo pipefail

PACKAGES=(gimp python3-gi gir1.2-gimp-3.0 gir1.2-gegl-0.4 python3-pytest xvfb xauth imagemagick)
root="${1:-${LDL_GIMP_CHROOT:-/var/cache/ldl-studio/gimp-trixie}}"
ready="$root/.ldl-ready"  # holds the package list it was made with
log=$(mktemp)
trap 'rm -f "$log"' EXIT

fail() {
  echo "gimp_host.sh: $1" >&2
  if [ -s "$log" ]; then
    echo "gimp_host.sh: the last command's output ends:" >&2
    tail -n 30 "$log" >&2
  fi
  exit 1
}

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  fail "installing GIMP 3 needs root and apt-get"
fi

missing_packages() {  # the packages of PACKAGES not installed, as the dpkg database in $1 says
  local package
  for package in "${PACKAGES[@]}"; do
    if ! dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${db:Status-Status}\n' "$package" 2>/dev/null |
      grep -qx installed; then
      echo "$package"
    fi
  done
}

major=$(cut -d. -f1 /etc/debian_version 2>/dev/null || echo 0)
if [ "$major" = "13" ] || grep -q trixie /etc/debian_version 2>/dev/null; then
  mapfile -t missing < <(missing_packages "")
  if [ "${#missing[@]}" -gt 0 ]; then
    { apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1 ||
      fail "apt-get could not install ${missing[*]}"
  fi
  echo /
  exit 0
fi

if [ -x "$root/usr/bin/gimp-console-3.0" ] && [ "$(cat "$ready" 2>/dev/null)" = "${PACKAGES[*]}" ]; then
  echo "$root"
  exit 0
fi
if [ -e "$root/proc/self" ] || mountpoint -q "$root/dev" 2>/dev/null; then
  fail "$root has /proc or /dev mounted; unmount them (umount $root/proc $root/dev) before preparing it"
fi
command -v unshare >/dev/null || fail "unshare (util-linux) is missing"

if [ ! -e "$root/.ldl-base" ] && [ ! -e "$ready" ]; then  # .ldl-ready alone: made by an earlier version
  # The mirror this machine's apt already uses (never a fixed address in the repository).
  mirror=$(sed -n 's/^URIs: *\([^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
  if [ -z "$mirror" ]; then
    mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\?\(http[^ ]*\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
  fi
  [ -n "$mirror" ] || fail "found no Debian mirror in this machine's apt configuration"
  if ! command -v debootstrap >/dev/null; then
    # Without package lists on a fresh machine the first try fails; then update them and try again.
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap ||
      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; }; } >"$log" 2>&1 ||
      fail "apt-get could not install debootstrap"
  fi
  rm -rf "$root"  # an interrupted debootstrap leaves a folder it cannot continue from (nothing is mounted: see above)
  mkdir -p "$root"
  debootstrap --variant=minbase trixie "$root" "$mirror" >"$log" 2>&1 ||
    fail "debootstrap of Debian trixie into $root failed"
  touch "$root/.ldl-base"
fi

mapfile -t missing < <(missing_packages "$root")
if [ "${#missing[@]}" -gt 0 ]; then
  unshare --mount --propagation private sh -c '
    set -e
    root=$1
    shift
    mount -t proc proc "$root/proc"
    mount --bind /dev "$root/dev"
    exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
      sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends $*"
  ' sh "$root" "${missing[@]}" >"$log" 2>&1 || fail "apt-get in $root could not install ${missing[*]}"
  # apt's downloaded packages: about 300 MB the chroot does not need again.
  rm -f "$root"/var/cache/apt/archives/*.deb
fi
echo "${PACKAGES[*]}" >"$ready"
echo "$root"
