/**
 * A PC domain with the e1000 and a PVH domain with xen-netfront, both the stock Debian kernel in
 * one tsxen process on one virtual switch: the e1000 side sends 4 MiB over TCP (Linux hands the
 * 82540 TSO and checksum-offloaded packets, so the NIC's segmentation and checksums are what the
 * peer's TCP stack verifies), then receives 2 MiB back (RX ring, interrupts, FCS handling under
 * load); md5 sums must match in both directions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initrdPath, kernelPath, runMachines } from './testing/guests.js';
import { existsSync, readFileSync } from 'node:fs';
import { PcMachine } from '../../src/machine/pc.js';
import { PvhMachine } from '../../src/machine/pvh.js';
import { XenHost } from '../../src/machine/xen-host.js';
import { VirtualSwitch } from '../../src/net/switch.js';
import { kernelElf } from '../../src/loader/kernel-payload.js';
import { nodeDecompress } from '../../src/host/node/decompress.js';


test('e1000 PC domain and PVH netfront domain exchange MiBs over TCP with matching md5', { timeout: 1_200_000 }, async (t) => {
  if (!existsSync(kernelPath)) return t.skip('guest/ not built (scripts/guest-kit.sh)');
  const kernel = new Uint8Array(readFileSync(kernelPath));
  const elf = await kernelElf(kernel, nodeDecompress);
  const initrd = new Uint8Array(readFileSync(initrdPath));
  const host = new XenHost();
  const sw = new VirtualSwitch();
  const up = (ip: string) => `ip addr add ${ip}/16 dev eth0; ip link set eth0 up`;
  const server = [
    up('169.254.0.2'),
    'dd if=/dev/urandom of=/tmp/g bs=65536 count=32 2>/dev/null',
    'echo back-sent=$(md5sum < /tmp/g)',
    'nc -l -p 5000 > /tmp/f',
    'echo received=$(md5sum < /tmp/f) size=$(wc -c < /tmp/f)',
    'sleep 3',
    'nc 169.254.0.1 5001 < /tmp/g && echo back-done',
  ].join('; ');
  const client = [
    up('169.254.0.1'),
    'dd if=/dev/urandom of=/tmp/f bs=65536 count=64 2>/dev/null',
    'echo sent=$(md5sum < /tmp/f)',
    'ping -c 3 -W 5 169.254.0.2 && echo ping-ok',
    'sleep 1',
    'nc 169.254.0.2 5000 < /tmp/f && echo nc-done',
    'nc -l -p 5001 > /tmp/r',
    'echo back-received=$(md5sum < /tmp/r) size=$(wc -c < /tmp/r)',
    'dmesg | grep -i -e warn -e oops -e hardware; echo dmesg-end',
  ].join('; ');
  let srv = '', cli = '';
  const dec = new TextDecoder();
  const pvh = new PvhMachine({
    host, name: 'server', memoryMiB: 128, kernelElf: elf, initrd,
    cmdline: `console=hvc0 quiet tsxen.modules=xen-netfront tsxen.run="${server}"`,
    clockMode: 'host', hostNowNs: () => performance.now() * 1e6, wallclockMs: Date.now(),
    consoleOutput: (b) => { srv += dec.decode(b, { stream: true }); },
    vifs: [{ mac: '00:16:3e:00:00:02', switch: sw }],
  });
  const pc = new PcMachine({
    memoryMiB: 256, kernel, initrd,
    cmdline: `console=ttyS0 quiet tsxen.modules=e1000 tsxen.run="${client}"`,
    clockMode: 'host', hostNowNs: () => performance.now() * 1e6, wallclockMs: Date.now(),
    serialOutput: (b) => { cli += String.fromCharCode(b); },
    nic: { mac: Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x01), switch: sw },
  });
  const done = (await runMachines<{ kind: string; waitNs?: number }>([pvh, pc])).map((d) => d?.kind ?? null);
  const why = `\n--- server (pvh) ---\n${srv.slice(-1500)}\n--- client (e1000) ---\n${cli.slice(-2500)}`;
  assert.match(cli, /ping-ok/, why);
  assert.match(cli, /nc-done/, why);
  const sent = /sent=([0-9a-f]{32})/.exec(cli)?.[1];
  assert.ok(sent, why);
  assert.equal(/received=([0-9a-f]{32})/.exec(srv)?.[1], sent, `server got the client's bytes${why}`);
  assert.match(srv, /size=4194304/, why);
  const back = /back-sent=([0-9a-f]{32})/.exec(srv)?.[1];
  assert.ok(back, why);
  assert.equal(/back-received=([0-9a-f]{32})/.exec(cli)?.[1], back, `client got the server's bytes${why}`);
  assert.match(cli, /size=2097152/, why);
  const dmesg = cli.slice(cli.lastIndexOf('back-received'), cli.lastIndexOf('dmesg-end'));
  assert.doesNotMatch(dmesg, /WARNING|Oops|Hardware Error|Call Trace|Tx Unit Hang/, why);
  assert.deepEqual(done, ['poweroff', 'poweroff'], why);
  const nic = pc.platform.nic!.counters;
  assert.ok(nic.tsoPackets > 0, `Linux used TSO (${JSON.stringify(nic)})`);
  assert.ok(nic.checksumPackets > 0, `Linux used TX checksum offload (${JSON.stringify(nic)})`);
  pvh.destroy();
});
