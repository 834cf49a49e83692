import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseDiskSpec, parseDomainConfig, parseVifSpec, parseXlSyntax } from './xlcfg.js';

test('the xl.cfg syntax reads strings, numbers, multi-line lists and comments', () => {
  const m = parseXlSyntax(`# a guest
name = "web"   # trailing comment
memory = 256
disk = [ 'format=raw, vdev=xvda, access=rw, target=/img/a.img',
         "/img/b.img,raw,xvdb,ro", ]
flag = 0x10; other='x'
`);
  assert.equal(m.get('name'), 'web');
  assert.equal(m.get('memory'), 256);
  assert.deepEqual(m.get('disk'), ['format=raw, vdev=xvda, access=rw, target=/img/a.img', '/img/b.img,raw,xvdb,ro']);
  assert.equal(m.get('flag'), 16);
  assert.equal(m.get('other'), 'x');
});

test('syntax errors name the line', () => {
  assert.throws(() => parseXlSyntax('name = "a"\nmemory 5\n'), /config:2: expected '=' after key 'memory'/);
  assert.throws(() => parseXlSyntax('name = "abc\n'), /config:1: unterminated string/);
  assert.throws(() => parseXlSyntax('disk = [ "a"\n'), /unterminated list/);
  assert.throws(() => parseXlSyntax('memory = lots\n'), /expected a quoted string, a number or a list/);
});

test('a domain config is validated into structured values', () => {
  const c = parseDomainConfig(`name="d1"
type="pvh"
memory=512
vcpus=2
kernel="guest/vmlinuz"
ramdisk="guest/initramfs.cpio.gz"
extra="console=hvc0"
root="/dev/xvda"
disk=["format=raw,vdev=xvda,access=rw,target=/tmp/disk,with,commas.img"]
vif=["mac=00:16:3e:00:00:01,bridge=tsxen0"]
on_reboot="destroy"
`);
  assert.equal(c.type, 'pvh');
  assert.equal(c.memoryMiB, 512);
  assert.equal(c.cmdline, 'root=/dev/xvda console=hvc0');
  assert.deepEqual(c.disks, [{ target: '/tmp/disk,with,commas.img', format: 'raw', vdev: 'xvda', access: 'rw', devtype: 'disk' }]);
  assert.deepEqual(c.vifs, [{ mac: '00:16:3e:00:00:01', bridge: 'tsxen0' }]);
  assert.equal(c.onReboot, 'destroy');
  assert.equal(c.onPoweroff, 'destroy');
});

test('KEY=VALUE overrides from the command line win', () => {
  const c = parseDomainConfig('name="a"\nmemory=128\n', ['memory=256', 'name=b']);
  assert.equal(c.memoryMiB, 256);
  assert.equal(c.name, 'b');
});

test('bad keys and values get an error naming the key', () => {
  assert.throws(() => parseDomainConfig('name="a"\nmemroy=5\n'), /unknown key 'memroy'/);
  assert.throws(() => parseDomainConfig('memory=5\n'), /'name' is required/);
  assert.throws(() => parseDomainConfig('name="a"\nmemory=5\n'), /'memory' must be a whole number from 16/);
  assert.throws(() => parseDomainConfig('name="a"\ntype="xen"\n'), /'type' must be pvh, hvm or pv/);
  assert.throws(() => parseDomainConfig('name="a"\non_crash="explode"\n'), /'on_crash' must be one of/);
  assert.throws(() => parseDomainConfig('name="a"\ncmdline="x"\nextra="y"\n'), /cannot be combined/);
  assert.throws(() => parseDomainConfig('name="a"\ndisk="x"\n'), /'disk' must be a list/);
});

test('disk specs accept the positional and keyword forms and reject what we cannot serve', () => {
  assert.deepEqual(parseDiskSpec('/a.img,raw,xvdb,ro', 'd'), { target: '/a.img', format: 'raw', vdev: 'xvdb', access: 'ro', devtype: 'disk' });
  assert.deepEqual(parseDiskSpec('vdev=hdc,devtype=cdrom,access=ro,target=/x.iso', 'd'), { target: '/x.iso', format: 'raw', vdev: 'hdc', access: 'ro', devtype: 'cdrom' });
  assert.throws(() => parseDiskSpec('/a.qcow2,qcow2,xvda', 'd'), /format 'qcow2' is not supported/);
  assert.throws(() => parseDiskSpec('format=raw,target=/a', 'd'), /no vdev/);
  assert.throws(() => parseDiskSpec('vdev=xvda', 'd'), /no target/);
  assert.throws(() => parseDiskSpec('/a,raw,eth0', 'd'), /not a disk name/);
  assert.throws(() => parseDiskSpec('/a,raw,xvda,rw,extra', 'd'), /too many positional/);
});

test('vif specs validate MAC and IP addresses', () => {
  assert.deepEqual(parseVifSpec('mac=00:16:3E:AA:BB:CC, ip=10.0.0.2', 'v'), { mac: '00:16:3e:aa:bb:cc', ip: '10.0.0.2' });
  assert.throws(() => parseVifSpec('mac=01:00:00:00:00:00', 'v'), /multicast/);
  assert.throws(() => parseVifSpec('mac=zz', 'v'), /not six hex bytes/);
  assert.throws(() => parseVifSpec('colour=red', 'v'), /unknown vif key 'colour'/);
  assert.ok(new ConfigError('x') instanceof Error);
});
