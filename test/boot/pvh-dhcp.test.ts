/**
 * One PVH domain (the stock Debian kernel with xen-netfront) on a virtual switch with tsxen's host
 * endpoint: busybox udhcpc leases an address from the endpoint's DHCP server, configures it with
 * a default route via the endpoint, and pings the endpoint. 10.0.2.0/24 exists only inside the
 * process.
 *
 * The initramfs has no udhcpc default script, so the command writes a minimal one first (busybox
 * passes the lease in the environment: ip, mask (prefix length), router, interface). The command
 * sits in double quotes on the kernel command line, so it uses none itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dhcpCommands, initrdPath, kernelPath, runMachines } from './testing/guests.js';
import { existsSync, readFileSync } from 'node:fs';
import { PvhMachine } from '../../src/machine/pvh.js';
import { XenHost } from '../../src/machine/xen-host.js';
import { VirtualSwitch } from '../../src/net/switch.js';
import { HostEndpoint } from '../../src/net/host-endpoint/index.js';
import { kernelElf } from '../../src/loader/kernel-payload.js';
import { nodeDecompress } from '../../src/host/node/decompress.js';


test('a PVH guest leases an address from the host endpoint with udhcpc and pings it', { timeout: 1_200_000 }, async (t) => {
  if (!existsSync(kernelPath)) return t.skip('guest/ not built (scripts/guest-kit.sh)');
  const elf = await kernelElf(new Uint8Array(readFileSync(kernelPath)), nodeDecompress);
  const initrd = new Uint8Array(readFileSync(initrdPath));
  const host = new XenHost();
  const sw = new VirtualSwitch();
  const ep = new HostEndpoint();
  ep.attach(sw);
  const cmd = [
    ...dhcpCommands(),
    'ip addr show eth0',
    'ip route',
    'ping -c 3 -W 5 10.0.2.2 && echo ping-ok',
  ].join('; ');
  assert.ok(!cmd.includes('"'));
  let out = '';
  const dec = new TextDecoder();
  const m = new PvhMachine({
    host, name: 'dhcp', memoryMiB: 128, kernelElf: elf, initrd,
    cmdline: `console=hvc0 quiet tsxen.modules=xen-netfront tsxen.run="${cmd}"`,
    clockMode: 'host', hostNowNs: () => performance.now() * 1e6, wallclockMs: Date.now(),
    consoleOutput: (b) => { out += dec.decode(b, { stream: true }); },
    vifs: [{ mac: '00:16:3e:00:00:01', switch: sw }],
  });
  const [done] = await runMachines([m]);
  const c = ep.counters;
  const why = `\n--- guest ---\n${out.slice(-2500)}\n--- endpoint ---\n${JSON.stringify(c)}`;
  assert.match(out, /dhcp-ok/, why);
  assert.match(out, /lease of 10\.0\.2\.15 obtained from 10\.0\.2\.2/, why);
  assert.match(out, /inet 10\.0\.2\.15\/24/, why);
  assert.match(out, /default via 10\.0\.2\.2 dev eth0/, why);
  assert.match(out, /3 packets transmitted, 3 packets received/, why);
  assert.match(out, /ping-ok/, why);
  assert.equal(done?.kind, 'poweroff', why);
  assert.ok(c.dhcpOffers >= 1 && c.dhcpAcks >= 1, why);
  assert.ok(c.arpReplies >= 1 && c.icmpEchoReplies >= 3, why);
  assert.equal(c.dropped, 0, why);
  assert.deepEqual(ep.dhcp?.pool.leases().map((l) => [l.state, l.ip.toString(16)]), [['bound', 'a00020f']]);
  m.destroy();
});
