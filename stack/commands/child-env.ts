/**
 * The environment a portal's command runs with: the parent's, minus everything that could carry a
 * secret or another deployment's Supabase settings, plus what the config declares for it. The stack
 * runs beside the matrix, whose environment holds service-role keys (`PROD_SUPABASE_SERVICE_ROLE_KEY`),
 * passwords (`PROD_AGENT_PASSWORD`) and database URLs; a portal is a browser app and gets the anon key
 * only, so none of those may reach it, not even through `process.env` in a build step.
 */
const SECRET_LIKE =
  /SERVICE_ROLE|SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|CREDENTIAL|API_?KEY|_KEY$|_KEY_|^PG[A-Z]+$|DATABASE_URL|DB_URL|SUPABASE|^RTM_/i;

export function isInheritable(name: string): boolean {
  return !SECRET_LIKE.test(name);
}

/** The child's environment: the parent's safe variables, then the portal's declared ones (which win). */
export function childEnv(
  parent: NodeJS.ProcessEnv,
  declared: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value !== undefined && isInheritable(name)) env[name] = value;
  }
  return { ...env, ...declared };
}
