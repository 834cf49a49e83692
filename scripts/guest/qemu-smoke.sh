#!/usr/bin/env bash
# Sanity-boots the guest kit under QEMU (a reference run, not part of tsxen): waits for the ready
# line, types a few commands into the shell on ttyS0, checks their output and that the guest
# powers off when the shell exits. Prints the time to the ready line.
#
# usage: scripts/guest/qemu-smoke.sh [GUEST_DIR] [TIMEOUT_SECONDS]
# QEMU_ACCEL=kvm to use KVM. Needs qemu-system-i386 (Debian: apt-get install qemu-system-x86).
set -euo pipefail
DIR=${1:-$(cd "$(dirname "$0")/../.." && pwd)/guest}
LIMIT=${2:-120}
command -v qemu-system-i386 >/dev/null || { echo "qemu-smoke: qemu-system-i386 missing (apt-get install qemu-system-x86)" >&2; exit 2; }
LOG=$(mktemp /tmp/qemu-smoke.XXXXXX)
# TCG by default: it behaves the same on every host (nested KVM here fails on RDRAND).
ACCEL=${QEMU_ACCEL:-tcg}

start=$(date +%s.%N)
coproc QEMU { exec timeout "$LIMIT" qemu-system-i386 -accel "$ACCEL" -m 256 -no-reboot \
  -kernel "$DIR/vmlinuz" -initrd "$DIR/initramfs.cpio.gz" \
  -append "console=ttyS0 tsxen.modules=ata_piix,e1000" \
  -display none -monitor none -serial stdio 2>&1; }
QPID=$QEMU_PID
ready=""
sent=0
status=1
while IFS= read -r -t "$LIMIT" line <&"${QEMU[0]}"; do
  line=${line%$'\r'}
  printf '%s\n' "$line" >> "$LOG"
  if [ -z "$ready" ] && [ "$line" = "tsxen-guest: ready" ]; then
    ready=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    sleep 1
    printf 'uname -r; echo "sum=$((6*7))"; lsmod | grep -c .; ls /dev/sda >/dev/null 2>&1; echo jobs:; sleep 5 & jobs; kill %%1; exit\n' >&"${QEMU[1]}"
    sent=1
  fi
  case $line in
    "sum=42"*) status=0 ;;
  esac
done
wait "$QPID" || true
end=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
cat "$LOG" | grep -E 'tsxen|Linux version|sum=|jobs|\[1\]|^[0-9]+$|power|reboot|^6\.' | tail -20
if [ -z "$ready" ]; then echo "qemu-smoke: no ready line within ${LIMIT}s (log: $LOG)" >&2; exit 1; fi
[ $sent = 1 ] && [ $status = 0 ] || { echo "qemu-smoke: the shell did not answer (log: $LOG)" >&2; exit 1; }
echo "qemu-smoke: ok ($ACCEL): ready line after ${ready}s, powered off after ${end}s; full log $LOG"
