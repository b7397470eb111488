#!/bin/sh
# Makes (once) a folder holding Debian bookworm's 32-bit Arm (armhf) Node 18 and the shared
# libraries it needs, so tests can run the board agent on the boards' own CPU under
# `qemu-arm-static -L ROOT ROOT/usr/bin/node`. Prints the folder's path on stdout.
#
# Where: $AXCTL_ARM_ROOT if set, else /var/cache/axctl-arm-node. Idempotent: a folder that
# already runs `node --version` under qemu is reused as it is. The folder is built beside
# its final place and renamed into it, so an interrupted run leaves nothing half-made.
#
# Needs: debootstrap, dpkg-deb, qemu-arm-static (Debian packages debootstrap, dpkg,
# qemu-user-static; installed with apt-get when missing and run as root) and Debian's package
# mirror. Set AXCTL_ARM_MIRROR to use another mirror.
set -eu

root="${AXCTL_ARM_ROOT:-/var/cache/axctl-arm-node}"
mirror="${AXCTL_ARM_MIRROR:-http://deb.debian.org/debian}"
qemu="${QEMU_ARM:-qemu-arm-static}"

say() { echo "arm-node: $*" >&2; }

works() {
  [ -x "$1/usr/bin/node" ] && "$qemu" -L "$1" "$1/usr/bin/node" --version >/dev/null 2>&1
}

if works "$root"; then
  echo "$root"
  exit 0
fi

# What is missing is installed when we may (root with apt-get, as on CI); else we say how.
need_packages=
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need_packages="$need_packages debootstrap"
command -v "$qemu" >/dev/null 2>&1 || need_packages="$need_packages qemu-user-static"
command -v dpkg-deb >/dev/null 2>&1 || need_packages="$need_packages dpkg"
if [ -n "$need_packages" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing$need_packages"
    if ! apt-get install -y $need_packages >/dev/null 2>&1; then
      apt-get update >/dev/null 2>&1 || true
      apt-get install -y $need_packages >/dev/null || { say "apt-get install$need_packages failed"; exit 2; }
    fi
  else
    say "missing:$need_packages (as root: apt-get install -y$need_packages)"
    exit 2
  fi
fi
debootstrap_bin="$(command -v debootstrap || echo /usr/sbin/debootstrap)"

parent="$(dirname "$root")"
mkdir -p "$parent"
work="$(mktemp -d "$parent/.axctl-arm-node.XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# --foreign only downloads and unpacks the first stage; what we want are the .debs it fetched
# (nodejs and everything it depends on, with their exact versions), unpacked into a clean folder.
say "downloading Debian bookworm armhf nodejs into $work (about a minute, once)"
if ! "$debootstrap_bin" --arch=armhf --variant=minbase --foreign --include=nodejs \
    bookworm "$work/boot" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 20 "$work/debootstrap.log" >&2
  say "debootstrap failed (log above)"
  exit 1
fi

mkdir -p "$work/root"
count=0
for deb in "$work"/boot/var/cache/apt/archives/*.deb; do
  dpkg-deb -x "$deb" "$work/root"
  count=$((count + 1))
done
say "unpacked $count packages"

# Debian's packages still ship files under /lib, /bin and /sbin, but bookworm's loader expects
# the merged-/usr layout (/lib -> usr/lib) that debootstrap's second stage would have made:
# without it ld.so looks for libc.so.6 only under /usr/lib and node does not start.
for dir in lib bin sbin; do
  if [ -d "$work/root/$dir" ] && [ ! -L "$work/root/$dir" ]; then
    mkdir -p "$work/root/usr/$dir"
    cp -a "$work/root/$dir/." "$work/root/usr/$dir/"
    rm -rf "${work:?}/root/$dir"
    ln -s "usr/$dir" "$work/root/$dir"
  fi
done
# Documentation and translations are a third of the size and never read here.
rm -rf "$work/root/usr/share/doc" "$work/root/usr/share/man" "$work/root/usr/share/locale" "$work/root/usr/share/info"

if ! works "$work/root"; then
  say "the unpacked node does not run under $qemu"
  "$qemu" -L "$work/root" "$work/root/usr/bin/node" --version >&2 || true
  exit 1
fi

# A broken earlier folder (it failed the check above) is replaced.
rm -rf "$root"
mv "$work/root" "$root"
say "ready: $("$qemu" -L "$root" "$root/usr/bin/node" --version)"
echo "$root"
