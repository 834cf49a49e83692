/**
 * Logging for the portable core. The core never touches the console or files directly: the host
 * installs a sink. `once` exists because guests repeat mistakes in loops, and a log line per
 * occurrence would drown the host.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogSink = (level: LogLevel, topic: string, message: string) => void;

let sink: LogSink = () => {};
const seen = new Set<string>();

/** Installs where log lines go (the Node host prints to stderr; tests may capture). */
export function setLogSink(s: LogSink): void {
  sink = s;
}

export function log(level: LogLevel, topic: string, message: string): void {
  sink(level, topic, message);
}

/** Logs a message the first time a given key is seen, and never again for this process. */
export function logOnce(level: LogLevel, topic: string, key: string, message: string): void {
  const k = topic + '\u0000' + key;
  if (seen.has(k)) return;
  seen.add(k);
  sink(level, topic, message);
}
