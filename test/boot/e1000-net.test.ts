/**
 * The stock Debian kernel on the emulated PC with an e1000 (82540EM) at 00:03.0 on a virtual switch
 * with tsxen's host endpoint: Linux's e1000 driver probes it (EEPROM checksum, PHY, MAC), busybox
 * udhcpc leases 10.0.2.15 from the endpoint and the guest pings 10.0.2.2. The unmodified driver is
 * the oracle for the NIC model: dmesg must show no warning, oops or EEPROM/hardware error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dhcpCommands, initrdPath, kernelPath, runMachines } from './testing/guests.js';
import { existsSync, readFileSync } from 'node:fs';
import { PcMachine } from '../../src/machine/pc.js';
import { VirtualSwitch } from '../../src/net/switch.js';
import { HostEndpoint } from '../../src/net/host-endpoint/index.js';


test('e1000: Linux drives the 82540EM, leases an address over DHCP and pings the host endpoint', { timeout: 1_200_000 }, async (t) => {
  if (!existsSync(kernelPath)) return t.skip('guest/ not built (scripts/guest-kit.sh)');
  const sw = new VirtualSwitch();
  const ep = new HostEndpoint();
  ep.attach(sw);
  const cmd = [
    ...dhcpCommands(),
    'ip addr show eth0',
    'ping -c 3 -W 5 10.0.2.2 && echo ping-ok',
    'dmesg | grep -i -e e1000 -e warn -e oops -e error',
    'echo dmesg-end',
  ].join('; ');
  assert.ok(!cmd.includes('"'));
  let out = '';
  const m = new PcMachine({
    memoryMiB: 256,
    kernel: new Uint8Array(readFileSync(kernelPath)),
    initrd: new Uint8Array(readFileSync(initrdPath)),
    cmdline: `console=ttyS0 quiet tsxen.modules=e1000 tsxen.run="${cmd}"`,
    clockMode: 'host',
    hostNowNs: () => performance.now() * 1e6,
    wallclockMs: Date.now(),
    serialOutput: (b) => { out += String.fromCharCode(b); },
    nic: { mac: Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56), switch: sw },
  });
  const [status] = await runMachines([m], 1_000_000, 5_000_000);
  const c = ep.counters;
  const why = `\n--- guest ---\n${out.slice(-4000)}\n--- endpoint ---\n${JSON.stringify(c)}`;
  assert.match(out, /e1000 0000:00:03\.0 eth0: \(PCI:33MHz:32-bit\) 52:54:00:12:34:56/, why);
  assert.match(out, /e1000: eth0 NIC Link is Up 1000 Mbps Full Duplex/, why);
  assert.match(out, /dhcp-ok/, why);
  assert.match(out, /lease of 10\.0\.2\.15 obtained from 10\.0\.2\.2/, why);
  assert.match(out, /inet 10\.0\.2\.15\/24/, why);
  assert.match(out, /3 packets transmitted, 3 packets received/, why);
  assert.match(out, /ping-ok/, why);
  const dmesg = out.slice(out.lastIndexOf('ping-ok'), out.lastIndexOf('dmesg-end'));
  assert.doesNotMatch(dmesg, /WARNING|Oops|Hardware Error|EEPROM Checksum Is Not Valid|Call Trace/, why);
  assert.equal(status?.kind, 'poweroff', why);
  assert.ok(c.dhcpAcks >= 1 && c.icmpEchoReplies >= 3, why);
});
