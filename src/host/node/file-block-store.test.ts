import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlockStore } from './file-block-store.js';

test('writes land in the image file and reads come back from it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-'));
  const p = join(dir, 'disk.img');
  writeFileSync(p, new Uint8Array(8192));
  const s = new FileBlockStore(p, false);
  s.write(1024, Uint8Array.from([1, 2, 3]));
  s.flush();
  const back = new Uint8Array(3);
  s.read(1024, back);
  assert.deepEqual(Array.from(back), [1, 2, 3]);
  s.close();
  assert.deepEqual(Array.from(readFileSync(p).subarray(1024, 1027)), [1, 2, 3]);
});

test('bad images are refused with a message naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-'));
  const p = join(dir, 'odd.img');
  writeFileSync(p, new Uint8Array(1000));
  assert.throws(() => new FileBlockStore(p, false), /odd\.img' must be a non-empty multiple of 512/);
  assert.throws(() => new FileBlockStore(join(dir, 'missing.img'), true), /cannot open disk image .*missing\.img': ENOENT/);
  const ro = join(dir, 'ro.img');
  writeFileSync(ro, new Uint8Array(512));
  const s = new FileBlockStore(ro, true);
  assert.throws(() => s.write(0, new Uint8Array(1)), /read-only/);
});
