import { RUNTIME_FILE, readRuntimeFile } from '../topology/runtime-file.ts';
import type { ActiveFault, FaultInfo } from './controller.ts';

/**
 * Switch faults on a running `npm run stack` from another process (the project's own tests, a QA
 * session). Reads the control URL and token from `.stack/runtime.json`; `RTM_RUNTIME_FILE` or the
 * `runtimeFile` option points elsewhere (a stack started on other ports).
 */
export interface ControlClientOptions {
  runtimeFile?: string;
}

function runtimePath(options: ControlClientOptions): string {
  return options.runtimeFile ?? process.env['RTM_RUNTIME_FILE'] ?? RUNTIME_FILE;
}

async function call<T>(method: string, body: unknown, options: ControlClientOptions): Promise<T> {
  const path = runtimePath(options);
  const { control } = await readRuntimeFile(path);
  const url = `${control.url}/faults`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        Authorization: `Bearer ${control.token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new Error(
      `The fault control endpoint ${url} (from ${path}) did not answer: ${(error as Error).message}. ` +
        'The stack that wrote the file is gone; restart `npm run stack`.',
      { cause: error },
    );
  }
  const text = await response.text();
  if (!response.ok) {
    // The endpoint answers {error, code}; show that, or the raw body if it is something else.
    let answer = text;
    try {
      const body = JSON.parse(text) as { error?: unknown; code?: unknown };
      if (typeof body.error === 'string') answer = `${String(body.code)}: ${body.error}`;
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
    throw new Error(
      `${method} ${url} answered ${response.status} ${answer}` +
        (response.status === 401
          ? ` (the token in ${path} is not this stack's; restart \`npm run stack\`)`
          : ''),
    );
  }
  return JSON.parse(text) as T;
}

/** Turn `fault` on or off for `cell` (`agent-prod`; an env such as `prod` for env-wide faults). */
export async function setFault(
  cell: string,
  fault: string,
  on: boolean,
  options: ControlClientOptions = {},
): Promise<ActiveFault[]> {
  const { active } = await call<{ active: ActiveFault[] }>('POST', { cell, fault, on }, options);
  return active;
}

export async function listFaults(
  options: ControlClientOptions = {},
): Promise<{ faults: FaultInfo[]; active: ActiveFault[] }> {
  return call('GET', undefined, options);
}

/** Turn every fault off. Returns what was on. */
export async function clearFaults(options: ControlClientOptions = {}): Promise<ActiveFault[]> {
  const { cleared } = await call<{ cleared: ActiveFault[] }>('DELETE', undefined, options);
  return cleared;
}
