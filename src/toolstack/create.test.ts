import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCreateArgs, CreateUsageError } from './create.js';

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
