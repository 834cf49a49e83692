/**
 * The MC146818A's time and calendar registers and their once-a-second update (MC146818A
 * datasheet, "Time, Calendar and Alarm Locations" and "Update Cycle"), operating on the raw
 * register bytes in the format register B selects: binary or BCD (DM), 24- or 12-hour (bit 7 of
 * the hours byte = PM). The chip increments whatever the registers hold; it never converts them
 * when the format bits change, so neither do we.
 */

export const SECONDS = 0x00, SECONDS_ALARM = 0x01, MINUTES = 0x02, MINUTES_ALARM = 0x03;
export const HOURS = 0x04, HOURS_ALARM = 0x05, DAY_OF_WEEK = 0x06, DATE_OF_MONTH = 0x07;
export const MONTH = 0x08, YEAR = 0x09;
/** The century byte of PC CMOS (IBM AT layout), kept in the same format as the clock registers. */
export const CENTURY = 0x32;

export interface Format {
  binary: boolean;
  h24: boolean;
}

export function decode(v: number, f: Format): number {
  return f.binary ? v : (v >> 4) * 10 + (v & 0x0f);
}

export function encode(v: number, f: Format): number {
  return f.binary ? v & 0xff : (Math.floor(v / 10) % 10) << 4 | v % 10;
}

/** Days in `month` (1-12) of two-digit `year`: the chip's leap-year rule is year % 4 === 0. */
function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Hours register -> 0..23. */
export function hours24(v: number, f: Format): number {
  if (f.h24) return decode(v, f);
  const h = decode(v & 0x7f, f) % 12;
  return v & 0x80 ? h + 12 : h;
}

/** 0..23 -> hours register. */
export function hoursReg(h: number, f: Format): number {
  if (f.h24) return encode(h, f);
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return encode(h12, f) | (h >= 12 ? 0x80 : 0);
}

/** Writes a Unix time (ms, UTC) into the clock registers. */
export function setTime(r: Uint8Array, ms: number, f: Format): void {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  r[SECONDS] = encode(d.getUTCSeconds(), f);
  r[MINUTES] = encode(d.getUTCMinutes(), f);
  r[HOURS] = hoursReg(d.getUTCHours(), f);
  r[DAY_OF_WEEK] = encode(d.getUTCDay() + 1, f); // 1 = Sunday
  r[DATE_OF_MONTH] = encode(d.getUTCDate(), f);
  r[MONTH] = encode(d.getUTCMonth() + 1, f);
  r[YEAR] = encode(d.getUTCFullYear() % 100, f);
  r[CENTURY] = encode(Math.floor(d.getUTCFullYear() / 100), f);
}

/** The clock registers as Unix ms (UTC); day of week is not part of it. */
export function getTime(r: Uint8Array, f: Format): number {
  const year = decode(r[CENTURY], f) * 100 + decode(r[YEAR], f);
  return Date.UTC(year, decode(r[MONTH], f) - 1, decode(r[DATE_OF_MONTH], f), hours24(r[HOURS], f), decode(r[MINUTES], f), decode(r[SECONDS], f));
}

/**
 * One update cycle: seconds + 1 with the carries through minutes, hours, day of week, date, month,
 * year and (as century-aware PC RTCs do) the century byte.
 */
export function tickSecond(r: Uint8Array, f: Format): void {
  const sec = decode(r[SECONDS], f) + 1;
  if (sec < 60) return void (r[SECONDS] = encode(sec, f));
  r[SECONDS] = encode(0, f);
  const min = decode(r[MINUTES], f) + 1;
  if (min < 60) return void (r[MINUTES] = encode(min, f));
  r[MINUTES] = encode(0, f);
  if (f.h24) {
    const h = decode(r[HOURS], f) + 1;
    if (h < 24) return void (r[HOURS] = encode(h, f));
    r[HOURS] = encode(0, f);
  } else {
    const pm = r[HOURS] & 0x80;
    const h = decode(r[HOURS] & 0x7f, f);
    if (h === 12) return void (r[HOURS] = encode(1, f) | pm);
    if (h !== 11) return void (r[HOURS] = encode(h + 1, f) | pm);
    // 11 -> 12 flips AM/PM; only 11 PM -> 12 AM carries into the next day.
    r[HOURS] = encode(12, f) | (pm ? 0 : 0x80);
    if (!pm) return;
  }
  const dow = decode(r[DAY_OF_WEEK], f);
  r[DAY_OF_WEEK] = encode(dow >= 7 ? 1 : dow + 1, f);
  const month = decode(r[MONTH], f);
  const year = decode(r[YEAR], f);
  const date = decode(r[DATE_OF_MONTH], f) + 1;
  if (date <= daysIn(month, year)) return void (r[DATE_OF_MONTH] = encode(date, f));
  r[DATE_OF_MONTH] = encode(1, f);
  if (month < 12) return void (r[MONTH] = encode(month + 1, f));
  r[MONTH] = encode(1, f);
  if (year < 99) return void (r[YEAR] = encode(year + 1, f));
  r[YEAR] = encode(0, f);
  r[CENTURY] = encode(decode(r[CENTURY], f) + 1, f);
}

/** Many update cycles at once (a guest that left the clock alone for long): calendar arithmetic. */
export function addSeconds(r: Uint8Array, seconds: number, f: Format): void {
  const before = getTime(r, f);
  if (Number.isNaN(before)) return;
  const after = before + seconds * 1000;
  const days = Math.floor(after / 86400000) - Math.floor(before / 86400000);
  const dow = decode(r[DAY_OF_WEEK], f);
  setTime(r, after, f);
  r[DAY_OF_WEEK] = encode((((dow - 1 + days) % 7) + 7) % 7 + 1, f);
}

/** Alarm match: each alarm byte equals its clock byte, or is a "don't care" code (bits 7-6 set). */
export function alarmMatches(r: Uint8Array): boolean {
  const match = (alarm: number, now: number) => (alarm & 0xc0) === 0xc0 || alarm === now;
  return match(r[SECONDS_ALARM], r[SECONDS]) && match(r[MINUTES_ALARM], r[MINUTES]) && match(r[HOURS_ALARM], r[HOURS]);
}
