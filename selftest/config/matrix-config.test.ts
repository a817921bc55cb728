import { mkdtempSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadMatrixConfig,
  MatrixConfigError,
  type MatrixConfigInput,
  resolveMatrixConfig,
} from '../../fixtures/config/matrix-config.ts';
import { coveringTopic, describeChannels, joinedChannels } from '../../fixtures/ladder/discover.ts';
import type { RecordedSocket } from '../../fixtures/ladder/recorded.ts';
import { rowKey } from '../../fixtures/rows/row-key.ts';
import { keyFilter, ServiceRows } from '../../fixtures/rows/service-rows.ts';
import type { Target } from '../../fixtures/target.ts';
import { ROOT } from '../catalogue/support/matrix.ts';

/** The config file as a team writes it: the smallest valid one, altered per case. */
function minimal(): MatrixConfigInput {
  return {
    name: 'shop',
    table: { name: 'orders', tagColumn: 'note' },
    row: ({ runTag }) => ({ note: runTag }),
    portals: {
      buyer: {
        urlKey: 'PORTAL_BUYER_URL',
        user: { emailKey: 'USER_BUYER_EMAIL' },
        signedIn: { url: /\/home$/ },
      },
    },
  };
}

const FILE = join(ROOT, 'shop.config.ts');
const LABEL = relative(process.cwd(), FILE);

function problems(raw: unknown): string[] {
  try {
    resolveMatrixConfig(raw, FILE);
  } catch (error) {
    if (error instanceof MatrixConfigError) return error.problems.length ? error.problems : [error.message];
    throw error;
  }
  throw new Error('expected a MatrixConfigError');
}

describe('the config file is validated at load, naming the file, the portal and the key', () => {
  it('fills the defaults: public schema, id key, ui sign-in at /, environments/ beside the file', () => {
    const config = resolveMatrixConfig(minimal(), FILE);
    expect(config.table).toEqual({ schema: 'public', name: 'orders', primaryKey: ['id'], tagColumn: 'note' });
    expect(config.portals['buyer']!.signIn).toEqual({ strategy: 'ui', path: '/' });
    expect(config.portalNames).toEqual(['buyer']);
    expect(config.environmentsDir).toBe(process.env['RTM_ENV_DIR'] ?? join(ROOT, 'environments'));
  });

  it('changes, writeAs and operations: defaults, portal overrides, and each bad value named', () => {
    const config = resolveMatrixConfig(
      {
        ...minimal(),
        operations: ['DELETE', 'INSERT'],
        portals: {
          buyer: {
            ...minimal().portals['buyer']!,
            changes: {
              kind: 'broadcast',
              topic: ({ row }: { row: Record<string, unknown> }) => `shop:${row['note']}`,
            },
            writeAs: 'user',
          },
        },
      },
      FILE,
    );
    expect({ changes: config.changes, writeAs: config.writeAs, operations: config.operations }).toEqual({
      changes: { kind: 'postgres_changes' },
      writeAs: 'service_role',
      // Always in INSERT, UPDATE, DELETE order: a row is inserted before it can be deleted.
      operations: ['INSERT', 'DELETE'],
    });
    expect(config.portals['buyer']!.writeAs).toBe('user');

    const raw = minimal() as unknown as Record<string, unknown> & {
      portals: { buyer: Record<string, unknown> };
    };
    raw['changes'] = { kind: 'broadcast', topic: 'room:1' };
    raw['operations'] = ['INSERT', 'UPSERT'];
    raw.portals.buyer['writeAs'] = 'admin';
    raw.portals.buyer['operations'] = ['UPDATE', 'UPDATE'];
    raw.portals.buyer['changes'] = { kind: 'presence' };
    const found = problems(raw).join('\n');
    expect(found).toContain(`${LABEL}: changes.topic: must be a function`);
    expect(found).toContain(`${LABEL}: operations[1]: each operation must be "INSERT", "UPDATE" or "DELETE"`);
    expect(found).toContain(`${LABEL}: portals.buyer.writeAs:`);
    expect(found).toContain(`${LABEL}: portals.buyer.operations: must not name an operation twice`);
    expect(found).toContain(
      `${LABEL}: portals.buyer.changes.kind: kind must be "postgres_changes" or "broadcast"`,
    );
  });

  it('an unknown key in a portal (a typo) is named with its path', () => {
    const raw = minimal() as unknown as { portals: { buyer: Record<string, unknown> } };
    raw.portals.buyer['signin'] = { strategy: 'ui' };
    expect(problems(raw)).toEqual([`${LABEL}: portals.buyer: Unrecognized key: "signin"`]);
  });

  it('a portal without its signed-in recognizer, a bad strategy, a non-function row', () => {
    const raw = minimal() as unknown as Record<string, unknown> & {
      portals: { buyer: Record<string, unknown> };
    };
    raw.portals.buyer['signedIn'] = {};
    raw.portals.buyer['signIn'] = { strategy: 'sso' };
    raw['row'] = { note: 'x' };
    expect(problems(raw).sort()).toEqual(
      [
        `${LABEL}: portals.buyer.signedIn: needs a url (RegExp) or a locator ((page) => Locator)`,
        `${LABEL}: portals.buyer.signIn.strategy: strategy must be "ui", "api" or "custom"`,
        `${LABEL}: row: must be a function (context) => row`,
      ].sort(),
    );
  });

  it('portal names make project names: no dashes, no capitals', () => {
    const raw = minimal();
    raw.portals = { 'Help-Desk': raw.portals['buyer']! };
    expect(problems(raw)).toEqual([
      `${LABEL}: portals.Help-Desk: portal names are lower-case letters and digits (they make the \`<portal>-<env>\` project names)`,
    ]);
  });

  it('two portals may not share an env key', () => {
    const raw = minimal();
    raw.portals['seller'] = { ...raw.portals['buyer']!, urlKey: 'PORTAL_SELLER_URL' };
    expect(problems(raw)).toEqual([
      `${LABEL}: portals.seller.user.emailKey is USER_BUYER_EMAIL, which portals.buyer.user.emailKey already uses`,
    ]);
  });

  it('a missing file and a file without a default export say what to write', async () => {
    const dir = mkdtempSync(join(ROOT, 'test-results', 'rtm-config-unit-'));
    await expect(loadMatrixConfig(join(dir, 'nope.config.ts'))).rejects.toThrow(
      /nope\.config\.ts: no such config file\. Create it with `export default defineMatrix\(\{ … \}\)`/,
    );
    const empty = join(dir, 'empty.config.ts');
    writeFileSync(empty, 'export const notDefault = 1;\n');
    await expect(loadMatrixConfig(empty)).rejects.toThrow(/empty\.config\.ts: has no default export/);
  });

  it("the help-desk's own config loads: three portals, tickets, its embedded app", async () => {
    const config = await loadMatrixConfig();
    expect(config.portalNames).toEqual(['client', 'agent', 'admin']);
    expect(config.table.name).toBe('tickets');
    expect(config.embedded?.name).toBe('help-desk');
  });
});

describe('test rows: the factory is checked before anything is inserted', () => {
  const target = {
    configLabel: 'shop.config.ts',
    portal: { name: 'buyer' },
    table: { schema: 'public', name: 'orders', primaryKey: ['id'], tagColumn: 'note' },
  } as unknown as Target;
  const context = {
    user: { id: 'u1', email: 'b@shop.test' },
    portal: 'buyer',
    env: 'prod',
    runTag: '[rtm:abc]',
    label: 'sample 1/1',
  };

  it('a factory that throws is named, with the cell, and nothing is inserted', () => {
    const rows = new ServiceRows({
      ...target,
      row: () => {
        throw new Error('no such room');
      },
    } as Target);
    expect(() => rows.make(context)).toThrow(
      'shop.config.ts: row threw for the buyer-prod cell: no such room. Fix the row factory; nothing was inserted.',
    );
  });

  it('a row without the run tag in the tag column is refused: the sweeper could never find it', () => {
    const rows = new ServiceRows({ ...target, row: () => ({ note: 'hello' }) } as Target);
    expect(() => rows.make(context)).toThrow(
      'shop.config.ts: row must put context.runTag ("[rtm:abc]") into the tag column "note" of public.orders (got "hello")',
    );
  });

  it('deletes by primary key of any shape', () => {
    expect(decodeURIComponent(keyFilter([{ id: 7 }, { id: 8 }], ['id']))).toBe('id=in.("7","8")');
    expect(decodeURIComponent(keyFilter([{ room_id: 1, seq: 'a"b' }], ['room_id', 'seq']))).toBe(
      'or=(and(room_id.eq."1",seq.eq."a\\"b"))',
    );
  });

  it('a bigint key matches whether REST or realtime spells it as a number or a string', () => {
    expect(rowKey({ id: 42 }, ['id'])).toBe(rowKey({ id: '42' }, ['id']));
    expect(rowKey({ room_id: 1, seq: 2 }, ['room_id', 'seq'])).toBe('room_id=1,seq=2');
    expect(rowKey({ room_id: 1 }, ['room_id', 'seq'])).toBeUndefined();
  });
});

describe('the channel is found by its bindings, not by its name', () => {
  const join = (ref: string, topic: string, config: unknown) =>
    JSON.stringify([ref, ref, topic, 'phx_join', { config, access_token: 'x' }]);
  const socket = (frames: string[]): RecordedSocket => ({
    id: 1,
    url: 'ws://127.0.0.1:54321/realtime/v1/websocket?apikey=k&vsn=2.0.0',
    createdAtMs: 0,
    errors: [],
    frames: frames.map((data, i) => ({ direction: 'sent' as const, atMs: i + 1, data })),
  });
  const page = socket([
    join('1', 'realtime:online', { presence: { key: 'm', enabled: true }, postgres_changes: [] }),
    join('2', 'realtime:typing:1', { broadcast: { self: false }, postgres_changes: [] }),
    join('3', 'realtime:audit', {
      postgres_changes: [{ event: 'INSERT', schema: 'public', table: 'audit' }],
    }),
    join('4', 'realtime:room:1', {
      postgres_changes: [{ event: 'INSERT', schema: 'public', table: 'messages', filter: 'room_id=eq.1' }],
    }),
  ]);

  it('picks the join whose postgres_changes cover the table, among presence, broadcast and other tables', () => {
    expect(coveringTopic([page], { schema: 'public', name: 'messages' })).toBe('realtime:room:1');
    expect(coveringTopic([page], { schema: 'public', name: 'orders' })).toBeUndefined();
    expect(coveringTopic([page], { schema: 'public', name: 'orders' }, 'realtime:audit')).toBe(
      'realtime:audit',
    );
  });

  it('a schema-wide or any-event binding covers the table; an UPDATE-only one does not', () => {
    const wide = socket([
      join('1', 'realtime:all', { postgres_changes: [{ event: '*', schema: 'public' }] }),
    ]);
    const updates = socket([
      join('1', 'realtime:u', {
        postgres_changes: [{ event: 'UPDATE', schema: 'public', table: 'messages' }],
      }),
    ]);
    expect(coveringTopic([wide], { schema: 'public', name: 'messages' })).toBe('realtime:all');
    expect(coveringTopic([updates], { schema: 'public', name: 'messages' })).toBeUndefined();
  });

  it('lists what it saw, for the verdict when nothing covers the table', () => {
    expect(describeChannels(joinedChannels([page]))).toBe(
      'realtime:online (presence), realtime:typing:1 (no postgres_changes), realtime:audit (postgres_changes INSERT public.audit), realtime:room:1 (postgres_changes INSERT public.messages room_id=eq.1)',
    );
  });
});
