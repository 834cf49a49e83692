/** An interrupt request line: devices drive it, an interrupt controller listens. */
export interface IrqLine {
  set(level: boolean): void;
}

/** A line that goes nowhere (unconnected pins, tests). */
export const NO_IRQ: IrqLine = { set: () => {} };

/** Raises and lowers a line: an edge for edge-triggered inputs. */
export function pulse(line: IrqLine): void {
  line.set(true);
  line.set(false);
}
