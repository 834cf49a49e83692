/**
 * xl.cfg parsing (the domain configuration format of Xen's xl toolstack, docs/man/xl.cfg.5):
 * `KEY = VALUE` lines where a value is a quoted string, a number or a [list]; `#` comments;
 * lists may span lines. On top of the syntax, `parseDomainConfig` validates the keys tsxen knows
 * and turns disk and vif specifications into structured values. Every error names the line and key.
 */

export type XlValue = string | number | XlValue[];

export class ConfigError extends Error {}

/** Parses the syntax only: returns KEY -> VALUE in file order. */
export function parseXlSyntax(text: string, source = 'config'): Map<string, XlValue> {
  const out = new Map<string, XlValue>();
  let pos = 0;
  let line = 1;
  const fail = (msg: string): never => {
    throw new ConfigError(`${source}:${line}: ${msg}`);
  };
  const skipSpace = (newlines: boolean) => {
    for (;;) {
      const ch = text[pos];
      if (ch === '#') {
        while (pos < text.length && text[pos] !== '\n') pos++;
      } else if (ch === ' ' || ch === '\t' || ch === '\r' || (newlines && ch === '\n')) {
        if (ch === '\n') line++;
        pos++;
      } else return;
    }
  };
  const value = (): XlValue => {
    skipSpace(false);
    const ch = text[pos];
    if (ch === '"' || ch === "'") {
      const q = ch;
      pos++;
      let s = '';
      while (pos < text.length && text[pos] !== q) {
        if (text[pos] === '\n') fail('unterminated string');
        if (text[pos] === '\\' && pos + 1 < text.length) {
          pos++;
          s += text[pos] === 'n' ? '\n' : text[pos];
        } else s += text[pos];
        pos++;
      }
      if (pos >= text.length) fail('unterminated string');
      pos++;
      return s;
    }
    if (ch === '[') {
      pos++;
      const items: XlValue[] = [];
      for (;;) {
        skipSpace(true);
        if (text[pos] === ']') {
          pos++;
          return items;
        }
        if (pos >= text.length) fail("unterminated list: missing ']'");
        items.push(value());
        skipSpace(true);
        if (pos >= text.length) fail("unterminated list: missing ']'");
        if (text[pos] === ',') pos++;
        else if (text[pos] !== ']') fail(`expected ',' or ']' in list, found '${text[pos] ?? 'end of file'}'`);
      }
    }
    const m = /^(0x[0-9a-fA-F]+|-?[0-9]+)(?![\w.])/.exec(text.slice(pos));
    if (m) {
      pos += m[0].length;
      return Number(m[0]);
    }
    return fail(`expected a quoted string, a number or a list, found '${text.slice(pos).split('\n')[0].trim()}'`);
  };
  for (;;) {
    skipSpace(true);
    if (pos >= text.length) break;
    if (text[pos] === ';') {
      pos++;
      continue;
    }
    const km = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(pos));
    if (!km) fail(`expected a key, found '${text.slice(pos).split('\n')[0].trim()}'`);
    const key = km![0];
    pos += key.length;
    skipSpace(false);
    if (text[pos] !== '=') fail(`expected '=' after key '${key}'`);
    pos++;
    const v = value();
    skipSpace(false);
    if (pos < text.length && text[pos] !== '\n' && text[pos] !== ';') {
      fail(`unexpected '${text[pos]}' after the value of '${key}'`);
    }
    out.set(key, v);
  }
  return out;
}

export type DomainType = 'pvh' | 'hvm' | 'pv' | 'pc';
export type LifecycleAction = 'destroy' | 'restart' | 'preserve' | 'rename-restart' | 'coredump-destroy' | 'coredump-restart' | 'soft-reset';

export interface DiskSpec {
  target: string;
  format: 'raw';
  vdev: string;
  access: 'rw' | 'ro';
  devtype: 'disk' | 'cdrom';
}

export interface VifSpec {
  mac?: string;
  bridge?: string;
  ip?: string;
  model?: string;
}

export interface DomainConfig {
  name: string;
  type: DomainType;
  memoryMiB: number;
  vcpus: number;
  kernel?: string;
  ramdisk?: string;
  cmdline: string;
  disks: DiskSpec[];
  vifs: VifSpec[];
  onPoweroff: LifecycleAction;
  onReboot: LifecycleAction;
  onCrash: LifecycleAction;
  serial?: string;
  boot?: string;
}

const KNOWN = new Set([
  'name', 'type', 'builder', 'memory', 'maxmem', 'vcpus', 'kernel', 'ramdisk', 'cmdline', 'extra', 'root', 'disk', 'vif',
  'on_poweroff', 'on_reboot', 'on_crash', 'serial', 'boot', 'uuid',
]);
const ACTIONS = new Set(['destroy', 'restart', 'preserve', 'rename-restart', 'coredump-destroy', 'coredump-restart', 'soft-reset']);

/** Validates an xl.cfg text (plus KEY=VALUE overrides, as `xl create` takes) into a DomainConfig. */
export function parseDomainConfig(text: string, overrides: string[] = [], source = 'config'): DomainConfig {
  const raw = parseXlSyntax(text, source);
  for (const o of overrides) {
    const one = parseXlSyntax(o.includes('=') && !/=\s*["'\[0-9-]/.test(o) ? o.replace(/=\s*(.*)$/, '="$1"') : o, 'command line');
    for (const [k, v] of one) raw.set(k, v);
  }
  for (const k of raw.keys()) if (!KNOWN.has(k)) throw new ConfigError(`${source}: unknown key '${k}'`);

  const str = (k: string): string | undefined => {
    const v = raw.get(k);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new ConfigError(`${source}: '${k}' must be a quoted string`);
    return v;
  };
  const int = (k: string, min: number, max: number): number | undefined => {
    const v = raw.get(k);
    if (v === undefined) return undefined;
    const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(`${source}: '${k}' must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
  const list = (k: string): string[] => {
    const v = raw.get(k);
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ConfigError(`${source}: '${k}' must be a list of quoted strings`);
    return v as string[];
  };
  const action = (k: string, dflt: LifecycleAction): LifecycleAction => {
    const v = str(k);
    if (v === undefined) return dflt;
    if (!ACTIONS.has(v)) throw new ConfigError(`${source}: '${k}' must be one of ${[...ACTIONS].join(', ')}`);
    return v as LifecycleAction;
  };

  const name = str('name');
  if (!name) throw new ConfigError(`${source}: 'name' is required`);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new ConfigError(`${source}: 'name' may use letters, digits, '_', '.', '-' (1-64 characters)`);
  let type = str('type') ?? str('builder') ?? 'pvh';
  if (type === 'generic') type = 'pv';
  if (!['pvh', 'hvm', 'pv', 'pc'].includes(type)) throw new ConfigError(`${source}: 'type' must be pvh, hvm or pv`);

  let cmdline = str('cmdline');
  if (cmdline === undefined) {
    const parts: string[] = [];
    const root = str('root');
    if (root !== undefined) parts.push(`root=${root}`);
    const extra = str('extra');
    if (extra !== undefined) parts.push(extra);
    cmdline = parts.join(' ');
  } else if (raw.has('extra') || raw.has('root')) {
    throw new ConfigError(`${source}: 'cmdline' cannot be combined with 'extra' or 'root'`);
  }

  return {
    name,
    type: type as DomainType,
    memoryMiB: int('memory', 16, 65536) ?? 128,
    vcpus: int('vcpus', 1, 128) ?? 1,
    kernel: str('kernel'),
    ramdisk: str('ramdisk'),
    cmdline,
    disks: list('disk').map((d, k) => parseDiskSpec(d, `${source}: disk[${k}]`)),
    vifs: list('vif').map((v, k) => parseVifSpec(v, `${source}: vif[${k}]`)),
    onPoweroff: action('on_poweroff', 'destroy'),
    onReboot: action('on_reboot', 'restart'),
    onCrash: action('on_crash', 'destroy'),
    serial: str('serial'),
    boot: str('boot'),
  };
}

/**
 * An xl disk specification (docs/man/xl-disk-configuration.5): `KEY=VALUE` items and/or the
 * positional form target,format,vdev,access. `target=` must come last, since a path may hold commas.
 */
export function parseDiskSpec(spec: string, where: string): DiskSpec {
  const d: Partial<DiskSpec> = {};
  let rest = spec.trim();
  const ti = rest.search(/(^|,)\s*target=/);
  if (ti >= 0) {
    const start = rest.indexOf('target=', ti) + 'target='.length;
    d.target = rest.slice(start);
    rest = rest.slice(0, ti);
  }
  const positional: string[] = [];
  for (const itemRaw of rest.split(',')) {
    const item = itemRaw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) {
      if (item === 'cdrom' || item === 'devtype=cdrom') d.devtype = 'cdrom';
      else positional.push(item);
      continue;
    }
    const k = item.slice(0, eq).trim(), v = item.slice(eq + 1).trim();
    switch (k) {
      case 'format': if (v !== 'raw') throw new ConfigError(`${where}: format '${v}' is not supported (only raw)`); d.format = 'raw'; break;
      case 'vdev': d.vdev = v; break;
      case 'access': d.access = accessOf(v, where); break;
      case 'devtype': if (v !== 'disk' && v !== 'cdrom') throw new ConfigError(`${where}: devtype must be disk or cdrom`); d.devtype = v; break;
      case 'backendtype': case 'script': case 'backend': break;
      default: throw new ConfigError(`${where}: unknown disk key '${k}'`);
    }
  }
  // Positional order: target, format, vdev, access.
  const order: (keyof DiskSpec)[] = ['target', 'format', 'vdev', 'access'];
  let oi = d.target !== undefined ? 1 : 0;
  for (const p of positional) {
    while (oi < order.length && d[order[oi]] !== undefined) oi++;
    if (oi >= order.length) throw new ConfigError(`${where}: too many positional items in '${spec}'`);
    const key = order[oi++];
    if (key === 'format') {
      if (p !== 'raw') throw new ConfigError(`${where}: format '${p}' is not supported (only raw)`);
      d.format = 'raw';
    } else if (key === 'access') d.access = accessOf(p, where);
    else (d as Record<string, string>)[key] = p;
  }
  if (!d.target) throw new ConfigError(`${where}: no target (image file) in '${spec}'`);
  if (!d.vdev) throw new ConfigError(`${where}: no vdev (e.g. xvda) in '${spec}'`);
  if (!/^(xvd|hd|sd)[a-z]+[0-9]*$/.test(d.vdev)) throw new ConfigError(`${where}: vdev '${d.vdev}' is not a disk name like xvda, hda or sda`);
  return { target: d.target, format: 'raw', vdev: d.vdev, access: d.access ?? 'rw', devtype: d.devtype ?? 'disk' };
}

function accessOf(v: string, where: string): 'rw' | 'ro' {
  if (v === 'rw' || v === 'w') return 'rw';
  if (v === 'ro' || v === 'r') return 'ro';
  throw new ConfigError(`${where}: access must be rw or ro, got '${v}'`);
}

/** An xl vif specification: comma-separated KEY=VALUE items (mac, bridge, ip, model). */
export function parseVifSpec(spec: string, where: string): VifSpec {
  const v: VifSpec = {};
  for (const itemRaw of spec.split(',')) {
    const item = itemRaw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) throw new ConfigError(`${where}: expected KEY=VALUE, got '${item}'`);
    const k = item.slice(0, eq).trim(), val = item.slice(eq + 1).trim();
    switch (k) {
      case 'mac':
        if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(val)) throw new ConfigError(`${where}: mac '${val}' is not six hex bytes`);
        if (parseInt(val.slice(0, 2), 16) & 1) throw new ConfigError(`${where}: mac '${val}' is a multicast address`);
        v.mac = val.toLowerCase();
        break;
      case 'bridge': v.bridge = val; break;
      case 'ip':
        if (!/^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/.test(val)) throw new ConfigError(`${where}: ip '${val}' is not an IPv4 address`);
        v.ip = val;
        break;
      case 'model': v.model = val; break;
      case 'type': case 'script': case 'vifname': case 'backend': break;
      default: throw new ConfigError(`${where}: unknown vif key '${k}'`);
    }
  }
  return v;
}
