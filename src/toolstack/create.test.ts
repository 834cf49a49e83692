import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, idePosition, parseCreateArgs, CreateUsageError } from './create.js';
import { ConfigError } from './xlcfg.js';

test('create: each config file starts a domain and KEY=VALUE overrides go to the file before them', () => {
  const r = parseCreateArgs(['-c', 'a.cfg', 'memory=64', 'b.cfg', 'name=x', 'vcpus=1']);
  assert.equal(r.console, true);
  assert.deepEqual(r.domains, [{ path: 'a.cfg', overrides: ['memory=64'] }, { path: 'b.cfg', overrides: ['name=x', 'vcpus=1'] }]);
});

test('create: bad arguments are one-line usage errors', () => {
  assert.throws(() => parseCreateArgs([]), CreateUsageError);
  assert.throws(() => parseCreateArgs(['memory=64', 'a.cfg']), /before any config file/);
  assert.throws(() => parseCreateArgs(['--bogus', 'a.cfg']), /unknown option '--bogus'/);
});

test('create: an hvm domain maps hda-hdd (or xvda-xvdd, sda-sdd) to the four IDE positions', () => {
  assert.deepEqual(['hda', 'hdb', 'hdc', 'hdd', 'xvda', 'sdc'].map(idePosition), [0, 1, 2, 3, 0, 2]);
  assert.equal(idePosition('hde'), undefined);
  assert.equal(idePosition('xvda1'), undefined);
});

test('create: a bad hvm config is a one-line error naming the problem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-create-'));
  try {
    const img = join(dir, 'd.img');
    writeFileSync(img, new Uint8Array(1 << 20));
    const cases: Array<[string, RegExp]> = [
      ['type="hvm"\nmemory=64\n', /needs a bootable disk/],
      [`type="hvm"\ndisk=['${img},raw,hde,rw']\n`, /4 IDE positions/],
      [`type="hvm"\ndisk=['${img},raw,hda,rw','${img},raw,xvda,rw']\n`, /IDE position 0 is used twice/],
      [`type="hvm"\nkernel="/vmlinuz"\ndisk=['${img},raw,hda,rw']\n`, /'kernel' does not apply/],
      [`type="hvm"\ndisk=['${img},raw,hda,rw']\nboot="n"\n`, /boot = 'n'/],
      [`type="hvm"\ndisk=['${img},raw,hda,rw']\nvcpus=2\n`, /only 1 vCPU/],
    ];
    for (const [text, want] of cases) {
      const cfg = join(dir, 'a.cfg');
      writeFileSync(cfg, `name="a"\n${text}`);
      await assert.rejects(create([cfg]), (e: Error) => e instanceof ConfigError && want.test(e.message) && !e.message.includes('\n'), text);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
