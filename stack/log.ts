/**
 * The stack's logger. Silent unless `RTM_LOG` is set (`info` or `debug`), because the stack runs
 * inside test processes whose output is the product. Never pass a token or key here: callers log
 * `describeKey()` / fingerprints only.
 */
export type Level = 'error' | 'warn' | 'info' | 'debug';
const ORDER: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  child(scope: string): Logger;
}

export function createLogger(scope: string, level: Level | undefined = envLevel()): Logger {
  const max = level ? ORDER[level] : -1;
  const emit = (l: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[l] > max) return;
    const extra = fields ? ` ${JSON.stringify(fields)}` : '';
    process.stderr.write(`[${new Date().toISOString()}] ${l.padEnd(5)} ${scope}: ${msg}${extra}\n`);
  };
  return {
    error: emit('error'),
    warn: emit('warn'),
    info: emit('info'),
    debug: emit('debug'),
    child: (sub) => createLogger(`${scope}/${sub}`, level),
  };
}

function envLevel(): Level | undefined {
  const v = process.env['RTM_LOG'];
  return v === 'error' || v === 'warn' || v === 'info' || v === 'debug' ? v : undefined;
}
