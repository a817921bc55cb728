/**
 * The matrix's coordinates: three portals × two environments. A cell is `<portal>-<env>`, the same
 * name as the Playwright project that tests it, so a fault switched on for `agent-prod` affects
 * exactly the `agent-prod` project.
 */
export const PORTALS = ['client', 'agent', 'admin'] as const;
export type Portal = (typeof PORTALS)[number];

export const ENVS = ['local', 'prod'] as const;
export type Env = (typeof ENVS)[number];

export type Cell = `${Portal}-${Env}`;

export const CELLS: Cell[] = ENVS.flatMap((env) => PORTALS.map((portal) => `${portal}-${env}` as Cell));

export function isPortal(value: string): value is Portal {
  return (PORTALS as readonly string[]).includes(value);
}

export function isEnv(value: string): value is Env {
  return (ENVS as readonly string[]).includes(value);
}

export function splitCell(cell: string): { portal: Portal; env: Env } | undefined {
  const [portal, env, ...rest] = cell.split('-');
  if (rest.length || !portal || !env || !isPortal(portal) || !isEnv(env)) return undefined;
  return { portal, env };
}
