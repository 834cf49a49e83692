#!/usr/bin/env bash
# Builds the bundled guest from Debian packages, by name: the stock i386 "686-pae" kernel and a
# busybox initramfs with the kernel modules later work needs. Reproduces guest/ exactly for the
# same package versions (see guest/PROVENANCE.md).
#
# usage: scripts/guest-kit.sh [--out DIR]   (run as root on Debian 12; needs i386 multiarch)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=guest
if [ "${1:-}" = "--out" ]; then OUT=$2; fi
MODULES=xen-blkfront,xen-netfront,ata_piix,ata_generic,sd_mod,sr_mod,e1000,ext4
if ! dpkg --print-foreign-architectures | grep -qx i386; then dpkg --add-architecture i386; fi
apt-get update -qq || echo "guest-kit: apt-get update reported errors; continuing with the lists we have" >&2
KPKG=$(apt-cache depends linux-image-686-pae:i386 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
KPKG=${KPKG%:i386}
[ -n "$KPKG" ] || { echo "guest-kit: cannot resolve linux-image-686-pae" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && chmod 777 . && apt-get download "$KPKG:i386" busybox-static:i386 >/dev/null)
for deb in "$WORK"/*.deb; do dpkg-deb -x "$deb" "$WORK/root"; done
KVER=${KPKG#linux-image-}
mkdir -p "$OUT"
cp "$WORK/root/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
node scripts/guest/make-initramfs.mjs --root "$WORK/root" --kver "$KVER" --out "$OUT/initramfs.cpio.gz" --modules "$MODULES"
KV=$(dpkg-deb -f "$WORK"/linux-image-*.deb Version)
BV=$(dpkg-deb -f "$WORK"/busybox-static*.deb Version)
cat > "$OUT/PROVENANCE.md" <<MD
# The bundled guest

Built by \`scripts/guest-kit.sh\` from Debian 12 (bookworm) i386 packages:

| file | from | version | sha256 |
| --- | --- | --- | --- |
| vmlinuz | $KPKG | $KV | $(sha256sum "$OUT/vmlinuz" | cut -d' ' -f1) |
| initramfs.cpio.gz | busybox-static:i386 + modules of $KPKG ($MODULES) + our /init | $BV | $(sha256sum "$OUT/initramfs.cpio.gz" | cut -d' ' -f1) |

Licenses: Linux is GPL-2.0 (with the syscall note); BusyBox is GPL-2.0. The corresponding
sources are in Debian's archive: \`apt-get source linux=$KV busybox=$BV\`. The /init script and
the archive builder are tsxen's own (MIT).
MD
ls -l "$OUT"
