#!/usr/bin/env bash
# Builds a bootable PC disk image (MBR + one FAT partition, SYSLINUX boot loader) holding the
# bundled guest's kernel and initramfs, for HVM domains: SeaBIOS -> MBR -> SYSLINUX -> Linux.
# Everything comes from Debian packages (syslinux, syslinux-common, mtools, dosfstools, fdisk)
# and works on a plain file: no loop device, no mount, no root needed.
#
# usage: scripts/make-disk.sh OUT.img [--size MiB] [--append "kernel args"]
#   --size MiB   image size (default 64; the partition fills it after the first MiB)
#   --append S   extra kernel command line after "console=ttyS0" (default: none)
#   --kernel F / --initrd F   other kernel/initramfs (default guest/vmlinuz, guest/initramfs.cpio.gz)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=
SIZE=64
APPEND=
KERNEL=$ROOT/guest/vmlinuz
INITRD=$ROOT/guest/initramfs.cpio.gz
die() { echo "make-disk: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case $1 in
    --size) SIZE=$2; shift 2 ;;
    --append) APPEND=$2; shift 2 ;;
    --kernel) KERNEL=$2; shift 2 ;;
    --initrd) INITRD=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$OUT" ] || die "one output file only"; OUT=$1; shift ;;
  esac
done
[ -n "$OUT" ] || die "usage: make-disk.sh OUT.img [--size MiB] [--append ARGS]"
[[ $SIZE =~ ^[0-9]+$ ]] && [ "$SIZE" -ge 16 ] || die "--size must be a whole number of MiB, at least 16"
for t in sfdisk mkfs.vfat mcopy syslinux; do
  command -v $t >/dev/null || die "$t is missing (apt-get install syslinux syslinux-common mtools dosfstools fdisk)"
done
MBR=/usr/lib/syslinux/mbr/mbr.bin
[ -f $MBR ] || die "$MBR is missing (apt-get install syslinux-common)"
[ -f "$KERNEL" ] && [ -f "$INITRD" ] || die "kernel or initramfs not found ($KERNEL, $INITRD)"

START=2048                       # first partition sector: 1 MiB aligned, as fdisk does
OFFSET=$((START * 512))
rm -f "$OUT"
truncate -s "${SIZE}M" "$OUT"
# One bootable FAT partition filling the disk: FAT16 (type 0Eh, LBA) below 512 MiB, where FAT32
# would have too few clusters, FAT32 (type 0Ch, LBA) from there on.
if [ "$SIZE" -lt 512 ]; then FAT=16 PTYPE=e; else FAT=32 PTYPE=c; fi
echo "start=$START, type=$PTYPE, bootable" | sfdisk -q --label dos "$OUT" >/dev/null
SECTORS=$(( SIZE * 2048 - START ))
mkfs.vfat -F $FAT -n TSXEN --offset $START "$OUT" $((SECTORS / 2)) >/dev/null
export MTOOLS_SKIP_CHECK=1
IMG="$OUT@@$OFFSET"
mcopy -i "$IMG" "$KERNEL" ::/vmlinuz
mcopy -i "$IMG" "$INITRD" ::/initrd.gz
CFG=$(mktemp)
trap 'rm -f "$CFG"' EXIT
cat > "$CFG" <<EOF
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0 $APPEND
EOF
mcopy -i "$IMG" "$CFG" ::/syslinux.cfg
# SYSLINUX's boot sector goes into the partition, its ldlinux.sys/.c32 into the file system;
# the MBR code (which jumps to the active partition) into sector 0 without touching the table.
syslinux --install --offset $OFFSET "$OUT"
dd if=$MBR of="$OUT" bs=440 count=1 conv=notrunc status=none
echo "make-disk: $OUT (${SIZE} MiB, SYSLINUX, kernel $(basename "$KERNEL"))" >&2
