#!/usr/bin/env node
// Builds the guest's initramfs (a gzip'd newc cpio archive) from an extracted Debian root:
// busybox, a small /init, and the kernel modules named on the command line with everything they
// depend on (read from each module's .modinfo "depends=" field, since the package ships no
// modules.dep). Deterministic: sorted entries, fixed owners and mtimes, gzip without a timestamp.
//
// usage: make-initramfs.mjs --root DIR --kver VERSION --out FILE --modules a,b,c
import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { root: { type: 'string' }, kver: { type: 'string' }, out: { type: 'string' }, modules: { type: 'string' } } });
if (!values.root || !values.kver || !values.out) throw new Error('usage: make-initramfs.mjs --root DIR --kver VERSION --out FILE [--modules a,b]');
const root = values.root, kver = values.kver;
const modRoot = join(root, 'lib/modules', kver);

// ---- module dependency closure ----------------------------------------------------------------
const byName = new Map();
(function walk(dir) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (e.endsWith('.ko')) byName.set(e.slice(0, -3).replace(/-/g, '_'), p);
  }
})(join(modRoot, 'kernel'));

function depends(path) {
  const s = readFileSync(path).toString('latin1');
  const m = /depends=([^\0]*)\0/.exec(s);
  return m && m[1] ? m[1].split(',').map((d) => d.replace(/-/g, '_')) : [];
}
const wanted = (values.modules ?? '').split(',').filter(Boolean).map((m) => m.replace(/-/g, '_'));
const order = [];
const seen = new Set();
function visit(name) {
  if (seen.has(name)) return;
  seen.add(name);
  const p = byName.get(name);
  if (!p) throw new Error(`module ${name} not found under ${modRoot}`);
  for (const d of depends(p)) visit(d);
  order.push(name);
}
for (const w of wanted) visit(w);

// ---- files -------------------------------------------------------------------------------------
const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /tmp && mount -t devpts devpts /dev/pts
hostname tsxen
echo "tsxen-guest: ready"
# tsxen.run="command": run it instead of a shell, then power off (used by tests and benchmarks).
cmd=$(sed -n 's/.*tsxen\\.run="\\([^"]*\\)".*/\\1/p' /proc/cmdline)
if [ -n "$cmd" ]; then
  sh -c "$cmd"
  echo "tsxen-guest: done $?"
  poweroff -f
fi
setsid cttyhack sh
poweroff -f
`;
const entries = []; // [path, mode, data|null, linkTarget|null]
const dir = (p) => entries.push([p, 0o40755, null, null]);
for (const d of ['bin', 'sbin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'root', 'lib', 'lib/modules', `lib/modules/${kver}`]) dir(d);
entries.push(['init', 0o100755, Buffer.from(INIT), null]);
entries.push(['bin/busybox', 0o100755, readFileSync(join(root, 'bin/busybox')), null]);
entries.push(['bin/sh', 0o120777, null, 'busybox']);
entries.push(['etc/passwd', 0o100644, Buffer.from('root:x:0:0:root:/root:/bin/sh\n'), null]);
const depLines = [];
for (const name of order) {
  const p = byName.get(name);
  const rel = relative(modRoot, p);
  const parts = rel.split('/');
  for (let k = 1; k < parts.length; k++) {
    const d = `lib/modules/${kver}/${parts.slice(0, k).join('/')}`;
    if (!entries.some((e) => e[0] === d)) dir(d);
  }
  entries.push([`lib/modules/${kver}/${rel}`, 0o100644, readFileSync(p), null]);
  const deps = depends(p).map((d) => relative(modRoot, byName.get(d)));
  depLines.push(`${rel}:${deps.length ? ' ' + deps.join(' ') : ''}`);
}
entries.push([`lib/modules/${kver}/modules.dep`, 0o100644, Buffer.from(depLines.join('\n') + '\n'), null]);
entries.sort((a, b) => (a[0] < b[0] ? -1 : 1));

// ---- newc cpio ---------------------------------------------------------------------------------
const chunks = [];
let ino = 1;
const hex = (n) => n.toString(16).padStart(8, '0');
function add(name, mode, data) {
  const nameBuf = Buffer.from(name + '\0');
  const hdr = '070701' + [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBuf.length, 0].map(hex).join('');
  chunks.push(Buffer.from(hdr), nameBuf);
  const pad1 = (4 - ((110 + nameBuf.length) % 4)) % 4;
  chunks.push(Buffer.alloc(pad1), data, Buffer.alloc((4 - (data.length % 4)) % 4));
}
for (const [name, mode, data, link] of entries) add(name, mode, data ?? (link ? Buffer.from(link) : Buffer.alloc(0)));
add('TRAILER!!!', 0, Buffer.alloc(0));
const cpio = Buffer.concat(chunks);
writeFileSync(values.out, gzipSync(cpio, { level: 9 }));
console.log(`initramfs: ${entries.length} entries, modules: ${order.join(' ') || '(none)'}, ${cpio.length} bytes -> ${values.out}`);
