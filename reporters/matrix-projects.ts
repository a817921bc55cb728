/**
 * Which configured projects are matrix cells: those whose metadata names a portal and an env (how
 * playwright.config.ts builds them), else those named `<portal>-<env>`. Setup or helper projects are
 * not cells, so the gate does not require them.
 */
export interface ProjectLike {
  name: string;
  metadata?: Record<string, unknown>;
}

export function matrixProjects(projects: readonly ProjectLike[]): string[] {
  return projects
    .filter((p) => {
      const m = p.metadata ?? {};
      if (typeof m['portal'] === 'string' && typeof m['env'] === 'string') return true;
      return /^[a-z0-9]+-[a-z0-9]+$/i.test(p.name) && !/^(setup|teardown)-/i.test(p.name);
    })
    .map((p) => p.name);
}
