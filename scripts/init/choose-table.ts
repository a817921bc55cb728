import { InitError } from './errors.ts';
import type { AppSchema, RealtimeKind, TableInfo } from './inspect.ts';
import { qualified } from './propose.ts';

/** `postgres_changes (in supabase_realtime)`, `broadcast (trigger t calls realtime.send)`. */
export function describeKinds(kinds: readonly RealtimeKind[]): string {
  return kinds
    .map((k) =>
      k.kind === 'publication'
        ? 'postgres_changes (in publication supabase_realtime)'
        : `broadcast (trigger ${k.trigger} runs ${k.fn}, which calls ${k.calls})`,
    )
    .join('; ');
}

export function listCandidates(candidates: readonly TableInfo[]): string {
  return candidates.map((t) => `  ${qualified(t)}: ${describeKinds(t.kinds)}`).join('\n');
}

/** `--table`, else the only candidate; anything else is an error that lists what there is. */
export function chooseTable(app: AppSchema, asked: string | undefined): TableInfo {
  const { candidates } = app;
  if (candidates.length === 0) {
    const example = app.tables[0] ?? 'public.<your_table>';
    const others = app.tables.length ? `\nThe app's tables: ${app.tables.join(', ')}.` : '';
    throw new InitError(
      'NO_REALTIME_TABLE',
      `No table of this app reaches clients through Realtime: none is in the supabase_realtime publication, and no enabled trigger calls realtime.broadcast_changes or realtime.send.${others}\nPublish the table your app listens to, in a new migration:\n  alter publication supabase_realtime add table ${example};\nthen run init again.`,
    );
  }
  if (asked) {
    const wanted = asked.includes('.') ? asked : `public.${asked}`;
    const found = candidates.find((t) => qualified(t) === wanted);
    if (found) return found;
    const exists = app.tables.includes(wanted);
    throw new InitError(
      'UNKNOWN_TABLE',
      exists
        ? `--table ${asked}: ${wanted} exists but reaches no client through Realtime. Publish it in a migration (alter publication supabase_realtime add table ${wanted};), or choose one of:\n${listCandidates(candidates)}`
        : `--table ${asked}: there is no such table among those Realtime delivers. Choose one of:\n${listCandidates(candidates)}`,
    );
  }
  if (candidates.length > 1) {
    throw new InitError(
      'SEVERAL_CANDIDATES',
      `${candidates.length} tables reach clients through Realtime:\n${listCandidates(candidates)}\nPass the one your portals listen to: --table ${qualified(candidates[0]!)}`,
    );
  }
  return candidates[0]!;
}
