/**
 * Interrupt request lines. A device drives a line; whoever listens (an interrupt controller, the
 * CPU's INTR pin, a test) implements `IrqLine`. Devices take either a line object or a plain level
 * callback (`IrqTarget`), so wiring stays a one-liner in the machine.
 */
export interface IrqLine {
  set(level: boolean): void;
}

/** What a device's constructor accepts for an output line. */
export type IrqTarget = IrqLine | ((level: boolean) => void);

/** A line that goes nowhere (unconnected pins, tests). */
export const NO_IRQ: IrqLine = { set: () => {} };

/** Normalises an `IrqTarget` (or nothing, an unconnected pin) to an `IrqLine`. */
export function irqLine(target: IrqTarget | undefined): IrqLine {
  if (target === undefined) return NO_IRQ;
  return typeof target === 'function' ? { set: target } : target;
}

/** Raises and lowers a line: one rising edge for an edge-triggered input. */
export function pulse(line: IrqLine): void {
  line.set(true);
  line.set(false);
}

/**
 * A device's output pin: remembers its level and forwards only changes, so a device can recompute
 * its output after every register access without flooding the listener. The level is derived
 * state; `restoreLevel` re-establishes it after a snapshot restore without driving the line (the
 * listener's own saved state already holds the level it last saw).
 */
export class IrqPin implements IrqLine {
  private current = false;
  private readonly out: IrqLine;

  constructor(target: IrqTarget | undefined) {
    this.out = irqLine(target);
  }

  get level(): boolean {
    return this.current;
  }

  set(level: boolean): void {
    if (level === this.current) return;
    this.current = level;
    this.out.set(level);
  }

  /** Forces a rising edge even if the pin is already high (low then high). */
  edge(): void {
    this.set(false);
    this.set(true);
  }

  restoreLevel(level: boolean): void {
    this.current = level;
  }
}
