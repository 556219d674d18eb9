/**
 * @module
 * Structured logging: one JSON object per line on stdout (stderr for warnings and errors), with a
 * level filter. Passed to everything that logs, so tests can capture or silence it.
 */

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds these fields to every line. */
  child(fields: Record<string, unknown>): Logger;
  /** Whether lines of this level are written (to skip the work of building them). */
  enabled(level: Exclude<LogLevel, "silent">): boolean;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export type LogSink = (level: Exclude<LogLevel, "silent">, line: Record<string, unknown>) => void;

const consoleSink: LogSink = (level, line) => {
  const text = JSON.stringify(line);
  if (level === "warn" || level === "error") console.error(text);
  else console.log(text);
};

export function createLogger(
  level: LogLevel,
  options: { sink?: LogSink; fields?: Record<string, unknown> } = {},
): Logger {
  const sink = options.sink ?? consoleSink;
  const base = options.fields ?? {};
  const emit = (at: Exclude<LogLevel, "silent">) => (msg: string, fields = {}) => {
    if (RANK[at] < RANK[level]) return;
    sink(at, { time: new Date().toISOString(), level: at, msg, ...base, ...fields });
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (fields) => createLogger(level, { sink, fields: { ...base, ...fields } }),
    enabled: (at) => RANK[at] >= RANK[level],
  };
}

/** A short, loggable description of any thrown value (never a stack). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
