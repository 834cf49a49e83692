/**
 * Connects a guest console (serial port or hvc) to the process's terminal: guest output to stdout,
 * keyboard input to the guest, raw mode when stdin is a TTY so keys reach the guest unprocessed.
 * Ctrl-] (0x1d) detaches: the callback stops the guest, as with `xl console`.
 */
export interface ConsoleSink {
  write(bytes: Uint8Array): void;
}

export interface ConsoleAttachment {
  /** Guest output goes here. */
  readonly output: ConsoleSink;
  /** Restores the terminal; call on every exit path. */
  detach(): void;
}

export const DETACH_KEY = 0x1d;

export function attachConsole(onInput: (bytes: Uint8Array) => void, onDetach: () => void): ConsoleAttachment {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  const listener = (chunk: Buffer) => {
    const k = chunk.indexOf(DETACH_KEY);
    if (k >= 0) {
      if (k > 0) onInput(new Uint8Array(chunk.subarray(0, k)));
      onDetach();
      return;
    }
    onInput(new Uint8Array(chunk));
  };
  stdin.on('data', listener);
  stdin.resume();
  let detached = false;
  return {
    output: { write: (bytes) => void process.stdout.write(bytes) },
    detach() {
      if (detached) return;
      detached = true;
      stdin.off('data', listener);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
    },
  };
}
