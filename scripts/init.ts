import { parseArgs } from 'node:util';
import { listCandidates } from './init/choose-table.ts';
import { InitError } from './init/errors.ts';
import { fromUser, shown } from './init/paths.ts';
import { qualified } from './init/propose.ts';
import { runInit } from './init/run.ts';

const USAGE = `npm run init -- --supabase-dir <dir> [--out <dir>] [--table <schema.name>] [--force]

  Writes a first realtime-matrix config for an existing app: applies the Supabase folder's migrations
  (and seed.sql) to a throwaway Postgres with the embedded stack's bootstrap, finds the tables Realtime
  delivers (in the supabase_realtime publication, or with a trigger calling realtime.broadcast_changes
  or realtime.send), and for the chosen one writes, into --out (default: the Supabase folder's parent,
  i.e. your app's root):
    realtime-matrix.config.ts   the table, its key, tag and timestamp columns, a row factory, how the
                                portal receives changes (postgres_changes or the trigger's Broadcast),
                                one portal and the command that serves it, with TODOs to fill in
    environments/local.env      the embedded stack on this machine
    environments/prod.env       the embedded production-like deployment (HTTPS edge, its own keys);
                                its comments show how to point it at your real one
  Existing files are kept unless --force. Paths are relative to where you run npm.`;

let values: { 'supabase-dir'?: string; out?: string; table?: string; force?: boolean; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      'supabase-dir': { type: 'string' },
      out: { type: 'string' },
      table: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!values['supabase-dir']) {
  console.error(`--supabase-dir is required: your app's Supabase folder (with migrations/).\n\n${USAGE}`);
  process.exit(2);
}

try {
  const result = await runInit({
    supabaseDir: fromUser(values['supabase-dir']),
    ...(values.out ? { outDir: fromUser(values.out) } : {}),
    ...(values.table ? { table: values.table } : {}),
    force: values.force ?? false,
  });
  const { app, proposal } = result;
  const out: string[] = [
    `Applied ${app.applied.length} file(s) to a throwaway Postgres: ${app.applied.join(', ') || 'none'}`,
    'Tables Realtime delivers:',
    listCandidates(app.candidates),
    `Chose ${qualified(proposal.table)}: primary key (${proposal.primaryKey.join(', ')}), tag column ${proposal.tag.column}${proposal.tag.added ? ' (to add)' : ''}, createdAtColumn ${proposal.createdAtColumn ?? 'none'}.`,
    proposal.factory.length
      ? `The row factory needs: ${proposal.factory.map((c) => c.name).join(', ')} (TODOs in the config).`
      : 'The row factory needs no other column.',
    'Wrote:',
    ...result.written.map((f) => `  ${shown(f)}`),
  ];
  if (proposal.warnings.length)
    out.push(
      'Before the first run:',
      ...proposal.warnings.map((w) => `  - ${w.text}${w.sql ? `\n      ${w.sql}` : ''}`),
    );
  out.push('Next, from the realtime-matrix checkout:', ...result.next.map((n, i) => `  ${i + 1}. ${n}`));
  console.log(out.join('\n'));
} catch (error) {
  if (!(error instanceof InitError)) throw error;
  console.error(`init: ${error.message}\n[${error.code}]`);
  process.exit(1);
}
