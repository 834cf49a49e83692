#!/usr/bin/env bash
# Builds tsxen's bundled guest from Debian 12 (bookworm) i386 packages, by name:
#   - the stock linux-image-686-pae kernel (the metapackage resolved to the real
#     linux-image-6.1.0-*-686-pae package): its bzImage becomes vmlinuz;
#   - an initramfs (newc cpio, gzip) with busybox-static:i386, scripts/guest/init as /init, and
#     the kernel modules below with everything they need (closure taken from modules.dep as
#     depmod computes it), plus modules.dep & co so busybox modprobe works.
# Writes OUT/vmlinuz, OUT/initramfs.cpio.gz and OUT/PROVENANCE.md (OUT defaults to guest/).
#
# The archive is deterministic: sorted names, owner 0:0, mtime 0, renumbered inodes, gzip -n.
# The same package versions therefore give byte-identical outputs.
#
# usage: scripts/guest-kit.sh [--out DIR] [--pin] [--verify]
#   --out DIR  write there instead of guest/
#   --pin      download the exact package versions recorded in guest/PROVENANCE.md instead of
#              the current candidates (works while Debian's archive still carries them)
#   --verify   build (pinned) into a scratch directory and compare with guest/; exit 1 on any
#              difference. Writes nothing to guest/.
# Runs as root on Debian 12 (adds the i386 architecture and installs kmod and cpio if missing).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/guest
PIN=0
VERIFY=0
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=$(realpath -m "$2"); shift 2 ;;
    --pin) PIN=1; shift ;;
    --verify) VERIFY=1; PIN=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "guest-kit: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

# The modules later work needs (names as modprobe takes them). Their dependencies come along.
MODULES=(xen-blkfront xen-netfront ata_piix ata_generic sd_mod sr_mod isofs e1000 ext4 crc32c_generic)

log() { echo "guest-kit: $*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (needs apt-get and dpkg)"

# ---- tools and package lists -------------------------------------------------------------------
if ! dpkg --print-foreign-architectures | grep -qx i386; then
  log "adding the i386 architecture"
  dpkg --add-architecture i386
  apt-get update -qq || log "apt-get update reported errors; going on with the lists it got"
elif [ -z "$(apt-cache policy busybox-static:i386 2>/dev/null | grep Candidate: | grep -v none)" ]; then
  apt-get update -qq || log "apt-get update reported errors; going on with the lists it got"
fi
need=()
command -v depmod >/dev/null || need+=(kmod)
command -v cpio >/dev/null || need+=(cpio)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# ---- which packages ----------------------------------------------------------------------------
if [ $PIN = 1 ]; then
  [ -f "$ROOT/guest/PROVENANCE.md" ] || die "--pin needs guest/PROVENANCE.md"
  # Rows of the packages table: | name | arch | version | deb sha256 |
  row() { awk -F'|' -v p="$1" '{gsub(/ /,"",$2)} $2 ~ p {gsub(/ /,"",$2); gsub(/ /,"",$4); print $2 ":i386=" $4; exit}' "$ROOT/guest/PROVENANCE.md"; }
  KSPEC=$(row '^linux-image-[0-9]')
  BSPEC=$(row '^busybox-static$')
  [ -n "$KSPEC" ] && [ -n "$BSPEC" ] || die "cannot read the pinned versions from guest/PROVENANCE.md"
  KPKG=${KSPEC%%:*}
else
  KPKG=$(apt-cache depends linux-image-686-pae:i386 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  KPKG=${KPKG%:i386}
  [ -n "$KPKG" ] || die "cannot resolve linux-image-686-pae:i386 to a kernel package (apt-get update?)"
  KSPEC=$KPKG:i386
  BSPEC=busybox-static:i386
fi
KVER=${KPKG#linux-image-}

WORK=$(mktemp -d /tmp/guest-kit.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/debs" && chmod 755 "$WORK" && chmod 777 "$WORK/debs" # apt's _apt user downloads here
log "downloading $KSPEC $BSPEC"
(cd "$WORK/debs" && apt-get download -q "$KSPEC" "$BSPEC" >/dev/null) ||
  die "apt-get download failed (versions gone from the archive? try without --pin)"
KDEB=$(ls "$WORK"/debs/linux-image-*.deb)
BDEB=$(ls "$WORK"/debs/busybox-static_*.deb)
KV=$(dpkg-deb -f "$KDEB" Version)
BV=$(dpkg-deb -f "$BDEB" Version)

mkdir "$WORK/k" "$WORK/b"
dpkg-deb -x "$KDEB" "$WORK/k"
dpkg-deb -x "$BDEB" "$WORK/b"
KMOD=$WORK/k/lib/modules/$KVER
[ -f "$WORK/k/boot/vmlinuz-$KVER" ] || die "$KPKG has no /boot/vmlinuz-$KVER"
[ -d "$KMOD/kernel" ] || die "$KPKG has no modules under /lib/modules/$KVER"

# ---- module closure from modules.dep -----------------------------------------------------------
# The package ships no modules.dep (its postinst runs depmod), so run depmod on the extracted tree.
depmod -b "$WORK/k" "$KVER"
SEL=$WORK/modules.sel
: > "$SEL"
for m in "${MODULES[@]}"; do
  n=${m//-/_}
  line=$(awk -v n="$n" -F: '{b=$1; sub(/.*\//,"",b); sub(/\.ko(\.[a-z]+)?$/,"",b); gsub(/-/,"_",b)} b==n {print; exit}' "$KMOD/modules.dep")
  if [ -z "$line" ]; then
    grep -q "/$m.ko" "$KMOD/modules.builtin" && { log "$m is built in"; continue; }
    die "module $m not found in $KPKG"
  fi
  for f in ${line/:/ }; do echo "$f" >> "$SEL"; done
done
LC_ALL=C sort -u -o "$SEL" "$SEL"

# ---- the initramfs tree ------------------------------------------------------------------------
S=$WORK/stage
mkdir -p "$S"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,lib/modules/"$KVER"}
install -m 0755 "$WORK/b/bin/busybox" "$S/bin/busybox"
ln -s busybox "$S/bin/sh"
install -m 0755 "$ROOT/scripts/guest/init" "$S/init"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$S/etc/passwd"
printf 'root:x:0:\n' > "$S/etc/group"
printf 'tsxen\n' > "$S/etc/hostname"
while read -r f; do
  install -D -m 0644 "$KMOD/$f" "$S/lib/modules/$KVER/$f"
done < "$SEL"
cp "$KMOD/modules.builtin" "$KMOD/modules.builtin.modinfo" "$S/lib/modules/$KVER/"
grep -Fx -f "$SEL" "$KMOD/modules.order" > "$S/lib/modules/$KVER/modules.order" || true
depmod -b "$S" "$KVER"
chmod 0700 "$S/root"
chmod 1777 "$S/tmp"
find "$S" -type f ! -perm -0100 -exec chmod 0644 {} +
find "$S" -type d ! -path "$S/tmp" ! -path "$S/root" -exec chmod 0755 {} +
find "$S" -exec touch -h -d @0 {} +

T=$WORK/out
mkdir "$T"
(cd "$S" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
  cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9 -n > "$T/initramfs.cpio.gz"
cp "$WORK/k/boot/vmlinuz-$KVER" "$T/vmlinuz"

# ---- provenance --------------------------------------------------------------------------------
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
NMOD=$(wc -l < "$SEL")
{
  cat <<MD
# The bundled guest

Built by \`scripts/guest-kit.sh\` from Debian 12 (bookworm) i386 packages; running it again with
the same package versions (\`scripts/guest-kit.sh --pin\`, or \`--verify\` to check) reproduces
these files byte for byte.

## Packages

| package | arch | version | .deb sha256 |
| --- | --- | --- | --- |
| $KPKG | i386 | $KV | $(sha "$KDEB") |
| busybox-static | i386 | $BV | $(sha "$BDEB") |

## Outputs

| file | bytes | sha256 | contents |
| --- | --- | --- | --- |
| vmlinuz | $(size "$T/vmlinuz") | $(sha "$T/vmlinuz") | /boot/vmlinuz-$KVER of $KPKG, unmodified (bzImage, Linux $KVER) |
| initramfs.cpio.gz | $(size "$T/initramfs.cpio.gz") | $(sha "$T/initramfs.cpio.gz") | newc cpio, gzip: /bin/busybox (applets installed at boot), /init (scripts/guest/init), $NMOD modules of $KPKG with modules.dep |

Modules asked for: ${MODULES[*]}; with their dependencies (from modules.dep):

\`\`\`
$(sed 's/^/lib\/modules\/'"$KVER"'\//' "$SEL")
\`\`\`

## /init

Prints \`tsxen-guest: ready\` on the console, then runs a shell there (\`setsid cttyhack sh\`,
prompt \`tsxen:/# \`) and powers off when it exits. Kernel command line options:
\`tsxen.modules=a,b\` (modprobe before the ready line), \`tsxen.run="cmd"\` (run cmd instead of
the shell, print \`tsxen-guest: exit N\`, power off), \`tsxen.quiet=1\` (console log level 1).

## Licenses and sources

- Linux (vmlinuz and the modules): GPL-2.0 (with the Linux syscall note).
  Corresponding source: Debian's \`linux\` source package, version $KV
  (\`apt-get source linux=$KV\`); the Debian packaging records the configuration
  (/boot/config-$KVER in $KPKG).
- BusyBox (/bin/busybox): GPL-2.0. Corresponding source: Debian's \`busybox\` source package
  (\`apt-get source busybox=${BV%+b*}\`; binary rebuild $BV).
- /init and the build script are tsxen's own (MIT).
MD
} > "$T/PROVENANCE.md"

if [ $VERIFY = 1 ]; then
  bad=0
  for f in vmlinuz initramfs.cpio.gz PROVENANCE.md; do
    if cmp -s "$T/$f" "$ROOT/guest/$f"; then log "same: $f"; else log "DIFFERS: $f"; bad=1; fi
  done
  [ $bad = 0 ] && log "guest/ is reproduced exactly"
  exit $bad
fi

mkdir -p "$OUT"
for f in vmlinuz initramfs.cpio.gz PROVENANCE.md; do cp "$T/$f" "$OUT/$f.new.$$" && mv -f "$OUT/$f.new.$$" "$OUT/$f"; done
k=$(size "$OUT/vmlinuz"); i=$(size "$OUT/initramfs.cpio.gz")
log "kernel $KPKG $KV, busybox $BV, $NMOD modules"
awk -v k="$k" -v i="$i" -v o="$OUT" 'BEGIN {
  printf "guest-kit: %-40s %9d bytes (%.2f MiB)\n", o "/vmlinuz", k, k / 1048576
  printf "guest-kit: %-40s %9d bytes (%.2f MiB)\n", o "/initramfs.cpio.gz", i, i / 1048576
  printf "guest-kit: %-40s %9d bytes (%.2f MiB)\n", "total", k + i, (k + i) / 1048576 }' >&2
