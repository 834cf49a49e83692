/**
 * The keyboard on the 8042's first port, reduced to its command protocol (IBM PS/2 keyboard
 * technical reference, "Commands from the system"): it answers ACK (0xFA), reset with BAT passed
 * (0xAA), identify with an MF2 ID, echo, and the commands that take an argument. Key presses are
 * host input handed in as ready-made scan codes; there is no matrix and no typematic repeat.
 */

export const ACK = 0xfa;
const RESEND = 0xfe;
const BAT_OK = 0xaa;
const ECHO = 0xee;

export interface KeyboardState {
  scanning: boolean;
  /** A command waiting for its argument byte, or 0. */
  awaiting: number;
  scanSet: number;
}

export class Ps2Keyboard {
  scanning = true;
  private awaiting = 0;
  private scanSet = 2;

  /** A byte from the controller to the keyboard; the replies go out in order through `reply`. */
  command(b: number, reply: (byte: number) => void): void {
    const pending = this.awaiting;
    if (pending !== 0) {
      this.awaiting = 0;
      reply(ACK);
      if (pending === 0xf0 && b === 0) reply(this.scanSet);
      else if (pending === 0xf0 && b >= 1 && b <= 3) this.scanSet = b;
      return;
    }
    switch (b) {
      case 0xed: // set LEDs
      case 0xf3: // set typematic rate
      case 0xf0: // get/set scan code set
        this.awaiting = b;
        reply(ACK);
        return;
      case 0xee:
        reply(ECHO);
        return;
      case 0xf2: // identify: MF2 keyboard
        reply(ACK);
        reply(0xab);
        reply(0x83);
        return;
      case 0xf4:
        this.scanning = true;
        reply(ACK);
        return;
      case 0xf5: // disable scanning and restore defaults
        this.scanning = false;
        this.scanSet = 2;
        reply(ACK);
        return;
      case 0xf6:
        this.scanSet = 2;
        reply(ACK);
        return;
      case 0xff: // reset: ACK, then the basic assurance test result
        this.scanning = true;
        this.scanSet = 2;
        reply(ACK);
        reply(BAT_OK);
        return;
      default:
        reply(b >= 0xf7 && b <= 0xfd ? ACK : RESEND);
    }
  }

  save(): KeyboardState {
    return { scanning: this.scanning, awaiting: this.awaiting, scanSet: this.scanSet };
  }

  restore(s: KeyboardState): void {
    this.scanning = s.scanning;
    this.awaiting = s.awaiting;
    this.scanSet = s.scanSet;
  }
}
