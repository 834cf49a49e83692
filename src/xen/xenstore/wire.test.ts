import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XsParser, XsType, XS_ERROR_NAMES, XENSTORE_PAYLOAD_MAX, encodeMsg, parseAll } from './wire.js';
import { joinFields, latin1Decode, latin1Encode, splitFields, utf8Decode, utf8Encode } from './bytes.js';
import { isValidAbsolute, parentOf, resolvePath } from './path.js';

test('message type numbers and error names are those of xs_wire.h', () => {
  assert.deepEqual(
    [XsType.Control, XsType.Directory, XsType.Read, XsType.GetPerms, XsType.Watch, XsType.Unwatch, XsType.TransactionStart,
      XsType.TransactionEnd, XsType.Introduce, XsType.Release, XsType.GetDomainPath, XsType.Write, XsType.Mkdir, XsType.Rm,
      XsType.SetPerms, XsType.WatchEvent, XsType.Error, XsType.IsDomainIntroduced, XsType.Resume, XsType.SetTarget],
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.equal(XsType.ResetWatches, 21);
  assert.equal(XsType.DirectoryPart, 22);
  assert.equal(XsType.SetQuota, 26);
  assert.equal(XsType.Invalid, 0xffff);
  assert.equal(XS_ERROR_NAMES.length, 16);
  assert.equal(XS_ERROR_NAMES[0], 'EINVAL');
  assert.equal(XS_ERROR_NAMES[14], 'E2BIG');
  assert.equal(XS_ERROR_NAMES[15], 'EPERM');
});

test('the header is four little-endian u32: type, req_id, tx_id, len', () => {
  const b = encodeMsg({ type: 0x0b, reqId: 0x01020304, txId: 0xfffffffe, payload: Uint8Array.of(9, 8) });
  assert.deepEqual(Array.from(b), [0x0b, 0, 0, 0, 4, 3, 2, 1, 0xfe, 0xff, 0xff, 0xff, 2, 0, 0, 0, 9, 8]);
  const { messages } = parseAll(b);
  assert.deepEqual(messages, [{ type: 0x0b, reqId: 0x01020304, txId: 0xfffffffe, payload: Uint8Array.of(9, 8) }]);
});

test('the parser assembles messages fed one byte at a time and stops after each one', () => {
  const a = encodeMsg({ type: 2, reqId: 1, txId: 0, payload: joinFields(['/x']) });
  const z = encodeMsg({ type: 6, reqId: 2, txId: 0, payload: new Uint8Array(0) });
  const stream = new Uint8Array([...a, ...z]);
  const p = new XsParser();
  const got = [];
  for (let i = 0; i < stream.length; ) {
    const n = p.feed(stream, i, i + 1);
    const m = p.take();
    if (m) got.push(m);
    else assert.equal(n, 1);
    i += n;
  }
  assert.equal(got.length, 2);
  assert.equal(got[1].payload.length, 0, 'a zero-length payload completes with its header');
  // Fed the whole stream at once, it consumes exactly the first message, then waits to be taken.
  const q = new XsParser();
  assert.equal(q.feed(stream), a.length);
  assert.equal(q.feed(stream, a.length), 0, 'nothing more until the message is taken');
  assert.ok(q.take());
  assert.equal(q.feed(stream, a.length), z.length);
});

test('a length above XENSTORE_PAYLOAD_MAX is an error, allocates nothing, and stops the stream', () => {
  const h = encodeMsg({ type: 2, reqId: 1, txId: 0, payload: new Uint8Array(0) });
  h[12] = 0xff; h[13] = 0xff; h[14] = 0xff; h[15] = 0xff;
  const r = parseAll(new Uint8Array([...h, 1, 2, 3]));
  assert.equal(r.messages.length, 0);
  assert.match(r.error!, /exceeds 4096/);
  assert.equal(r.leftover, 3);
  const max = encodeMsg({ type: 2, reqId: 1, txId: 0, payload: new Uint8Array(XENSTORE_PAYLOAD_MAX) });
  assert.equal(parseAll(max).messages.length, 1, 'exactly 4096 is allowed');
  const p = new XsParser();
  p.feed(h);
  assert.notEqual(p.error, null);
  p.reset();
  assert.equal(p.error, null);
});

test('parser state saves and restores a half-received message', () => {
  const m = encodeMsg({ type: 11, reqId: 3, txId: 4, payload: joinFields(['/a', 'b']) });
  for (const cut of [0, 5, 16, 18]) {
    const p = new XsParser();
    p.feed(m, 0, cut);
    const q = new XsParser();
    q.restore(JSON.parse(JSON.stringify(p.save())));
    q.feed(m, cut);
    assert.deepEqual(q.take(), { type: 11, reqId: 3, txId: 4, payload: joinFields(['/a', 'b']) }, `cut at ${cut}`);
  }
});

test('fuzz: random bytes never make the parser throw, and what it yields stays within the limit (fixed seed)', () => {
  let seed = 12345;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 16;
  };
  for (let round = 0; round < 300; round++) {
    const p = new XsParser();
    let total = 0;
    for (let chunk = 0; chunk < 50 && p.error === null; chunk++) {
      const len = rnd() % 600;
      const buf = new Uint8Array(len);
      for (let i = 0; i < len; i++) buf[i] = rnd() & 0xff;
      // Bias lengths toward small values so whole messages complete too.
      if (len >= 16 && rnd() % 2) { buf[13] = buf[14] = buf[15] = 0; buf[12] &= 0x3f; }
      let i = 0;
      while (i < len) {
        const n = p.feed(buf, i);
        const m = p.take();
        if (m) {
          total++;
          assert.ok(m.payload.length <= XENSTORE_PAYLOAD_MAX);
        } else if (n === 0) break;
        i += n;
      }
    }
    assert.ok(total >= 0);
  }
});

test('byte helpers: latin1 round-trips every byte; UTF-8 encodes and replaces malformed input', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(latin1Encode(latin1Decode(all)), all);
  assert.deepEqual(Array.from(utf8Encode('aé€𝄞')), [0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9d, 0x84, 0x9e]);
  assert.equal(utf8Decode(utf8Encode('aé€𝄞')), 'aé€𝄞');
  assert.equal(utf8Decode(Uint8Array.of(0x61, 0xff, 0xc3)), 'a\ufffd\ufffd');
  assert.equal(utf8Decode(Uint8Array.of(0xc0, 0x80)), '\ufffd\ufffd', 'overlong forms are refused');
  assert.deepEqual(splitFields(latin1Encode('a\0b\0c')), { fields: ['a', 'b'], rest: 'c' });
  assert.deepEqual(splitFields(new Uint8Array(0)), { fields: [], rest: null });
});

test('paths: absolute and relative resolution, and the validity rules', () => {
  assert.equal(resolvePath('device/vbd', 7), '/local/domain/7/device/vbd');
  assert.equal(resolvePath('/tool', 7), '/tool');
  assert.equal(isValidAbsolute('/'), true);
  for (const bad of ['', 'a', '//', '/a/', '/a//b', '/a.b', '/a b', '/a\0']) assert.equal(isValidAbsolute(bad), false, bad);
  assert.throws(() => resolvePath('x'.repeat(2049), 1));
  assert.equal(resolvePath('x'.repeat(2048), 1).length, 2048 + '/local/domain/1/'.length);
  assert.equal(parentOf('/a'), '/');
  assert.equal(parentOf('/a/b'), '/a');
  assert.equal(parentOf('/'), null);
});
