/**
 * Two PVH domains in one tsxen process, each the stock Debian kernel with its own xen-netfront,
 * on one virtual switch: they ping each other and move 4 MiB over TCP with matching checksums.
 * The addresses are link-local and exist only on tsxen's in-process switch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initrdPath, kernelPath, runMachines } from './testing/guests.js';
import { existsSync, readFileSync } from 'node:fs';
import { PvhMachine } from '../../src/machine/pvh.js';
import { XenHost } from '../../src/machine/xen-host.js';
import { VirtualSwitch } from '../../src/net/switch.js';
import { kernelElf } from '../../src/loader/kernel-payload.js';
import { nodeDecompress } from '../../src/host/node/decompress.js';


test('two PVH domains ping each other and transfer a file over xen-netfront', { timeout: 1_200_000 }, async (t) => {
  if (!existsSync(kernelPath)) return t.skip('guest/ not built (scripts/guest-kit.sh)');
  const elf = await kernelElf(new Uint8Array(readFileSync(kernelPath)), nodeDecompress);
  const initrd = new Uint8Array(readFileSync(initrdPath));
  const host = new XenHost();
  const sw = new VirtualSwitch();
  const up = (ip: string) => `ip addr add ${ip}/16 dev eth0; ip link set eth0 up`;
  const server = [
    up('169.254.0.2'),
    'nc -l -p 5000 > /tmp/f',
    'echo received=$(md5sum < /tmp/f) size=$(wc -c < /tmp/f)',
  ].join('; ');
  const client = [
    up('169.254.0.1'),
    'dd if=/dev/urandom of=/tmp/f bs=65536 count=64 2>/dev/null',
    'echo sent=$(md5sum < /tmp/f)',
    'ping -c 3 -W 5 169.254.0.2 && echo ping-ok',
    'sleep 1',
    'nc 169.254.0.2 5000 < /tmp/f && echo nc-done',
  ].join('; ');
  const outs = ['', ''];
  const dec = [new TextDecoder(), new TextDecoder()];
  const machines = [server, client].map((cmd, k) => new PvhMachine({
    host, name: k === 0 ? 'server' : 'client', memoryMiB: 128, kernelElf: elf, initrd,
    cmdline: `console=hvc0 quiet tsxen.modules=xen-netfront tsxen.run="${cmd}"`,
    clockMode: 'host', hostNowNs: () => performance.now() * 1e6, wallclockMs: Date.now(),
    consoleOutput: (b) => { outs[k] += dec[k].decode(b, { stream: true }); },
    vifs: [{ mac: `00:16:3e:00:00:0${k + 1}`, switch: sw }],
  }));
  const done = await runMachines(machines);
  const [srv, cli] = outs;
  const why = `\n--- server ---\n${srv.slice(-1500)}\n--- client ---\n${cli.slice(-1500)}`;
  assert.match(cli, /ping-ok/, why);
  assert.match(cli, /nc-done/, why);
  const sent = /sent=([0-9a-f]{32})/.exec(cli)?.[1];
  const received = /received=([0-9a-f]{32})/.exec(srv)?.[1];
  assert.ok(sent, why);
  assert.equal(received, sent, 'the server got exactly the bytes the client sent');
  assert.match(srv, /size=4194304/);
  assert.deepEqual(done.map((d) => d?.kind), ['poweroff', 'poweroff'], why);
  assert.ok(sw.frames > 1000, `the switch carried the traffic (${sw.frames} frames)`);
  for (const m of machines) m.destroy();
});
