#!/bin/sh
# Builds a bootable (El Torito, no emulation) ISO 9660 image with Debian's isolinux that boots
# guest/vmlinuz + guest/initramfs.cpio.gz with "console=ttyS0" plus extra arguments.
#   scripts/make-iso.sh OUT.iso [EXTRA-KERNEL-ARGS] [EXTRA-FILE...]
# Extra files are copied to the root of the ISO. Needs xorriso, isolinux, syslinux-common.
set -eu
out=$1; shift
args=${1:-}; [ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")/.." && pwd)
ISOLINUX=/usr/lib/ISOLINUX/isolinux.bin
LDLINUX=/usr/lib/syslinux/modules/bios/ldlinux.c32
for f in "$ISOLINUX" "$LDLINUX" "$here/guest/vmlinuz" "$here/guest/initramfs.cpio.gz"; do
  [ -f "$f" ] || { echo "make-iso.sh: $f missing (apt-get install xorriso isolinux syslinux-common)" >&2; exit 2; }
done
command -v xorriso >/dev/null || { echo "make-iso.sh: xorriso missing" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/isolinux"
cp "$ISOLINUX" "$LDLINUX" "$tmp/isolinux/"
cp "$here/guest/vmlinuz" "$tmp/vmlinuz"
cp "$here/guest/initramfs.cpio.gz" "$tmp/initrd.gz"
for f in "$@"; do cp "$f" "$tmp/"; done
cat > "$tmp/isolinux/isolinux.cfg" <<CFG
serial 0 115200
default linux
prompt 0
timeout 0
label linux
  kernel /vmlinuz
  append initrd=/initrd.gz console=ttyS0 $args
CFG
xorriso -as mkisofs -quiet -o "$out" -V TSXEN -J -R \
  -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table "$tmp"
