/**
 * The 82540EM's serial EEPROM: a 64-word Microwire part (93C46-style: 3-bit READ opcode 110b,
 * 6 address bits, 16 data bits MSB first) that the e1000 driver bit-bangs through EECD's
 * SK/CS/DI/DO pins (e1000_hw.c, e1000_read_eeprom for eeprom type microwire: EECD.SIZE clear ->
 * 64 words, 6 address bits). The part samples DI on SK's rising edge; once opcode and address are
 * in, each further rising edge presents the next data bit on DO. Dropping CS ends the access.
 * Writes/erase (EWEN, WRITE) are not modelled: the driver only writes for ethtool -E.
 *
 * Contents: words 0-2 the MAC address (little-endian per word), word 3Fh the checksum making the
 * sum of words 00h-3Fh equal to BABAh (what e1000_validate_eeprom_checksum checks).
 */
export const EEPROM_WORDS = 64;
export const EEPROM_CHECKSUM_SUM = 0xbaba;
const READ_OPCODE = 0b110;
const ADDR_BITS = 6;

export function buildEeprom(mac: Uint8Array): Uint16Array {
  const w = new Uint16Array(EEPROM_WORDS);
  for (let i = 0; i < 3; i++) w[i] = mac[2 * i] | (mac[2 * i + 1] << 8);
  // Subsystem and device IDs as an 82540EM board's EEPROM carries them (words 0Bh, 0Ch, 0Dh, 0Eh).
  w[0x0b] = 0x001e; w[0x0c] = 0x8086; w[0x0d] = 0x100e; w[0x0e] = 0x8086;
  let sum = 0;
  for (let i = 0; i < EEPROM_WORDS - 1; i++) sum = (sum + w[i]) & 0xffff;
  w[EEPROM_WORDS - 1] = (EEPROM_CHECKSUM_SUM - sum) & 0xffff;
  return w;
}

export interface MicrowireState {
  cs: boolean; sk: boolean; bitsIn: number; shift: number; outBit: number; word: number; dout: boolean;
}

/** The pin-level state machine. */
export class MicrowireEeprom {
  private s: MicrowireState = { cs: false, sk: false, bitsIn: 0, shift: 0, outBit: -1, word: 0, dout: false };

  constructor(readonly words: Uint16Array) {}

  /** The host drove CS, SK and DI. */
  pins(cs: boolean, sk: boolean, di: boolean): void {
    const s = this.s;
    if (!cs) {
      // Deselect: the next access starts from the start bit.
      s.cs = false; s.sk = sk; s.bitsIn = 0; s.shift = 0; s.outBit = -1; s.dout = false;
      return;
    }
    s.cs = true;
    const rising = sk && !s.sk;
    s.sk = sk;
    if (!rising) return;
    if (s.outBit >= 0) {
      // Reading: each rising edge shifts out the next bit; past the word, sequential read goes on.
      if (s.outBit >= 16) { s.word = (s.word + 1) % EEPROM_WORDS; s.outBit = 0; }
      s.dout = ((this.words[s.word] >> (15 - s.outBit)) & 1) !== 0;
      s.outBit++;
      return;
    }
    s.shift = ((s.shift << 1) | (di ? 1 : 0)) & 0xffff;
    s.bitsIn++;
    // The first 1 is the start bit: leading zeros before it are ignored, as the part does.
    if (s.bitsIn === 1 && !di) { s.bitsIn = 0; s.shift = 0; return; }
    if (s.bitsIn === 3 + ADDR_BITS) {
      const op = s.shift >> ADDR_BITS;
      if (op === READ_OPCODE) { s.word = s.shift & (EEPROM_WORDS - 1); s.outBit = 0; s.dout = false; }
      else { s.bitsIn = 0; s.shift = 0; } // EWEN/EWDS/WRITE/ERASE: ignored
    }
  }

  get dataOut(): boolean {
    return this.s.dout;
  }

  save(): MicrowireState {
    return { ...this.s };
  }

  restore(st: MicrowireState): void {
    this.s = {
      cs: !!st.cs, sk: !!st.sk, bitsIn: st.bitsIn | 0, shift: st.shift & 0xffff,
      outBit: Math.max(-1, Math.min(16, st.outBit | 0)), word: (st.word | 0) & (EEPROM_WORDS - 1), dout: !!st.dout,
    };
  }
}
