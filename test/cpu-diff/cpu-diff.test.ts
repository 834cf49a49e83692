/**
 * The differential test of tsxen's CPU against the host processor: a fixed-seed slice of
 * generated cases (every form several times, alone and in sequences) run natively and on tsxen,
 * compared register for register, flag for flag (undefined flags masked), byte for byte and on
 * the exception raised. One subtest per instruction group. It fails when tsxen's snippet runner
 * is missing or throws; it is skipped, with the reason, only where the host cannot run the
 * native side (no 32-bit gcc, not x86 Linux), and under CI=true a missing gcc-multilib fails it. `npm run fuzz:cpu` runs the same comparison at length.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeRequirement, runNative } from './native.js';
import { loadTsxen } from './tsxen.js';
import { ALL_FORMS, generate } from './generator.js';
import { Coverage } from './compare.js';
import { runDifferential, reportMismatches } from './harness.js';

const SEED = 20240601;
const PER_FORM = 5;

const host = nativeRequirement();
const skip = host.skip;
const groups = [...new Set(ALL_FORMS.map((f) => f.group))];

test('cpu-diff: tsxen provides runUserSnippet', async () => {
  const t = await loadTsxen();
  assert.ok(t.ok, t.ok ? '' : t.reason);
});

for (const group of groups) {
  test(`cpu-diff: ${group} forms match the host processor`, { skip }, async () => {
    host.require();
    const t = await loadTsxen();
    assert.ok(t.ok, t.ok ? '' : t.reason);
    const forms = ALL_FORMS.filter((f) => f.group === group);
    const cases = generate(SEED + groups.indexOf(group) * 1000003, forms.length * PER_FORM, forms, { pool: ALL_FORMS });
    const native = runNative(cases.map((c) => c.snippet));
    const coverage = new Coverage();
    const r = runDifferential(cases, t.mod.runUserSnippet, { native, coverage });
    if (r.mismatches.length) {
      const msg = `${r.mismatches.length} of ${cases.length} ${group} cases differ from the host\n\n${reportMismatches(r.mismatches, 8)}\n\n` +
        coverage.report(forms.map((f) => f.name), true);
      assert.fail(msg);
    }
  });
}
