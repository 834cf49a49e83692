#!/usr/bin/env bash
# Installs the reference emulators `npm run bench:boot` compares tsxen with, from Debian packages:
# QEMU (qemu-system-i386, TCG) and SeaBIOS (the BIOS and VGA BIOS images v86 boots with; the v86
# npm package itself is a devDependency, installed by npm ci). Needs root (or sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends qemu-system-x86 seabios
