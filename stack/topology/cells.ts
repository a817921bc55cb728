/**
 * The matrix's coordinates: the deployed app's portals × two environments. A cell is
 * `<portal>-<env>`, the same name as the Playwright project that tests it, so a fault switched on for
 * `agent-prod` affects exactly the `agent-prod` project. Portal names come from the app
 * (`StackApp.portals`); they are lower-case letters and digits, so the env is after the last `-`.
 */
export type Portal = string;

export const ENVS = ['local', 'prod'] as const;
export type Env = (typeof ENVS)[number];

export type Cell = string;

export function isEnv(value: string): value is Env {
  return (ENVS as readonly string[]).includes(value);
}

export function cellName(portal: Portal, env: Env): Cell {
  return `${portal}-${env}`;
}

/** Every cell of these portals in these envs, env by env. */
export function cellsOf(portals: readonly Portal[], envs: readonly Env[] = ENVS): Cell[] {
  return envs.flatMap((env) => portals.map((portal) => cellName(portal, env)));
}

export function splitCell(
  cell: string,
  portals: readonly Portal[],
): { portal: Portal; env: Env } | undefined {
  const at = cell.lastIndexOf('-');
  if (at <= 0) return undefined;
  const portal = cell.slice(0, at);
  const env = cell.slice(at + 1);
  if (!portals.includes(portal) || !isEnv(env)) return undefined;
  return { portal, env };
}
