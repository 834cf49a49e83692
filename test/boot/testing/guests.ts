/**
 * What the real-kernel boot tests share: where the bundled guest is, the udhcpc setup the network
 * tests run inside it, and the host loop that runs one or several machines in one process until
 * each has stopped (as `tsxen create` does, with host-time waits for idle machines).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(fileURLToPath(import.meta.url), '../../../../..');
export const kernelPath = join(repoRoot, 'guest/vmlinuz');
export const initrdPath = join(repoRoot, 'guest/initramfs.cpio.gz');

/**
 * Guest commands: bring eth0 up and lease an address with busybox udhcpc (its bound-script sets
 * the address and default route), printing `dhcp-ok`. No double quotes: they end tsxen.run="...".
 */
export function dhcpCommands(): string[] {
  const script = '#!/bin/sh\\n[ $1 = bound ] && ip addr add $ip/$mask dev $interface && ip route add default via $router\\nexit 0\\n';
  return [
    `printf '${script}' > /tmp/s`,
    'chmod +x /tmp/s',
    'ip link set eth0 up',
    'udhcpc -i eth0 -s /tmp/s -q -n -t 5 && echo dhcp-ok',
  ];
}

interface Stepper<S extends { kind: string }> {
  step(maxInstructions: number): S;
}

type Stopped<S> = Exclude<S, { kind: 'running' } | { kind: 'idle' }>;

/**
 * Steps every machine round-robin until each has stopped (anything but running/idle) or
 * `limitMs` of host time passed; an idle machine is skipped until its deadline. Returns the
 * statuses (null: still running at the limit).
 */
export async function runMachines<S extends { kind: string; waitNs?: number }>(
  machines: Stepper<S>[], limitMs = 1_000_000, slice = 1_000_000,
): Promise<(Stopped<S> | null)[]> {
  const done: (Stopped<S> | null)[] = machines.map(() => null);
  const waitUntil = machines.map(() => 0);
  const t0 = performance.now();
  while (done.some((d) => d === null) && performance.now() - t0 < limitMs) {
    let busy = false;
    for (let k = 0; k < machines.length; k++) {
      if (done[k] || performance.now() < waitUntil[k]) continue;
      const s = machines[k].step(slice);
      if (s.kind === 'running') busy = true;
      else if (s.kind === 'idle') waitUntil[k] = performance.now() + Math.min(20, (s.waitNs ?? 0) / 1e6);
      else done[k] = s as Stopped<S>;
    }
    await new Promise((r) => (busy ? setImmediate(r) : setTimeout(r, 2)));
  }
  return done;
}
