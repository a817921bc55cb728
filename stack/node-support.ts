/**
 * The project's statement of its Node requirement, made once per run instead of supabase-js's
 * warning once per process. supabase-js 2.119 prints "Node.js 20 and below are deprecated …" with
 * console.warn when its module loads on Node ≤ 20 and offers no switch; the matrix loads it in the
 * runner, every worker and the stack child. The first process of a run (the one without
 * RTM_NODE_NOTICE_SHOWN) says it once, children inherit the mark, and every process drops exactly
 * that library message — any other warning passes untouched.
 */
const LIBRARY_WARNING =
  'Node.js 20 and below are deprecated and will no longer be supported in future versions of @supabase/supabase-js';
const SHOWN = 'RTM_NODE_NOTICE_SHOWN';
const MARK = Symbol.for('realtime-matrix.node-support');

export function nodeMajor(version: string = process.version): number {
  return Number(/^v(\d+)\./.exec(version)?.[1] ?? Number.NaN);
}

/** The one line the project prints on Node ≤ 20 (supabase-js's threshold), else undefined. */
export function nodeNotice(version: string = process.version): string | undefined {
  if (!(nodeMajor(version) <= 20)) return undefined;
  return (
    `Node ${version}: supported by realtime-matrix (Node 20.6+ works; 22+ recommended). ` +
    '@supabase/supabase-js deprecates Node 20 and below and asks for 22 or later ' +
    '(https://github.com/orgs/supabase/discussions/45715); said once per run here, not per process.'
  );
}

/** True for exactly the library's deprecation warning call. */
export function isLibraryNodeWarning(args: unknown[]): boolean {
  return args.length === 1 && typeof args[0] === 'string' && args[0].includes(LIBRARY_WARNING);
}

export function installNodeSupport(env: NodeJS.ProcessEnv = process.env): void {
  const notice = nodeNotice();
  if (!notice) return;
  const current = console.warn as typeof console.warn & { [MARK]?: true };
  if (!current[MARK]) {
    const filtered = Object.assign(
      (...args: unknown[]) => {
        if (!isLibraryNodeWarning(args)) current.apply(console, args);
      },
      { [MARK]: true as const },
    );
    console.warn = filtered;
  }
  if (env[SHOWN]) return;
  env[SHOWN] = '1';
  console.warn(notice);
}

installNodeSupport();
