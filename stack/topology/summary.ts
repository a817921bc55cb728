import { appPortalNames } from '../app.ts';
import type { Stack } from '../index.ts';
import { fingerprint } from '../keys.ts';
import { cellName } from './cells.ts';

/** What `npm run stack` prints once up: the app's cells, the keys (fingerprints unless asked), users. */
export function describeStack(stack: Stack, options: { showSecrets: boolean; runtimeFile: string }): string {
  const secret = (role: string, value: string) =>
    options.showSecrets ? value : `${role} ${fingerprint(value)}`;
  const rows: string[][] = [['cell', 'portal URL', 'API URL', 'target']];
  for (const [env, d] of stack.deployments) {
    for (const portal of appPortalNames(stack.app)) {
      rows.push([
        cellName(portal, env),
        d.portals?.portals[portal]?.url ?? '(not started)',
        d.supabaseUrl,
        'embedded',
      ]);
    }
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const table = rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd());
  const lines = [...table, ''];
  for (const [env, d] of stack.deployments) {
    const c = d.project.config;
    lines.push(`  ${env}: API ${d.supabaseUrl}${env === 'prod' ? ` (internal ${d.project.listenUrl})` : ''}`);
    lines.push(`    anon key          ${secret('anon', c.anonKey)}`);
    lines.push(`    publishable key   ${secret('anon', c.publishableKey)}`);
    lines.push(`    service_role key  ${secret('service_role', c.serviceRoleKey)}`);
    lines.push(`    secret key        ${secret('service_role', c.secretKey)}`);
    lines.push(`    JWT secret        ${secret('jwt-secret', c.jwtSecret)}`);
    const users = Object.values(d.users);
    lines.push(
      `    users             ${users.map((u) => u.email).join(', ') || '(none seeded; the matrix seeds its own)'} ` +
        (options.showSecrets
          ? `(passwords: ${users.map((u) => u.password).join(', ')})`
          : '(passwords in the runtime file)'),
    );
  }
  lines.push(`  DB: postgresql://postgres:postgres@127.0.0.1:${stack.cluster.port}/postgres (prod: /prod)`);
  lines.push(`  runtime file: ${options.runtimeFile} (0600; matrix and fault client read it)`);
  if (stack.edge)
    lines.push(
      `  edge: https://*.prod.localhost:${stack.edge.port} (self-signed; browsers need ignoreHTTPSErrors)`,
    );
  const active = stack.faults.list();
  lines.push(
    '',
    `  faults on: ${active.length ? active.map((f) => `${f.target}:${f.fault}`).join(', ') : 'none'}`,
  );
  if (stack.control) {
    lines.push(
      `  switch at run time: setFault('${cellName(appPortalNames(stack.app)[0] ?? 'portal', 'prod')}', 'csp-blocks-socket', true) from stack/faults/control-client.ts,`,
      `    or POST ${stack.control.url}/faults {"cell","fault","on"} with Authorization: Bearer <control.token from the runtime file>`,
      '  list them: npm run stack -- --list-faults',
    );
  }
  return lines.join('\n');
}

/** The one line the matrix prints when it starts the stack: what, where, how long, where the rest is. */
export function describeStackBrief(stack: Stack, readyMs: number, summaryFile: string): string {
  const where = [...stack.deployments].map(([env, d]) => {
    const urls = appPortalNames(d.app)
      .map((p) => d.portals?.portals[p]?.url)
      .filter(Boolean);
    return `${env} (portals ${urls.join(' ')}, API ${d.supabaseUrl})`;
  });
  return (
    `Embedded stack ready in ${readyMs} ms: ${where.join('; ')}, Postgres 127.0.0.1:${stack.cluster.port}` +
    ` — details in ${summaryFile}`
  );
}
