import fc from 'fast-check';
import { describe } from 'vitest';
import { FILTER_OPS } from '../../stack/realtime/changes/params.ts';
import {
  buildFrame,
  Deep,
  expectedOutcome,
  hostileString,
  type Outcome,
  previewBytes,
  type Tree,
  tree,
  type Vsn,
} from './frames.ts';
import { FuzzEnv } from './harness.ts';
import {
  asMsg,
  isReply,
  judgeEnd,
  Lingering,
  openAnonSocket,
  probe,
  type Received,
} from './hostile-socket.ts';
import { capped } from './settings.ts';
import { itEndsWhole, itFuzzes, itPassesKnown, Tally, useStack } from './suite.ts';
import { hostileToken, judgeJoinReply, type TokenRecipe, tokenText } from './tokens.ts';

/**
 * Issue 22 in the changes engine: anon-key sockets join with postgres_changes bindings of every
 * shape — random schema/table/event/select, and `filter` strings over every operator (eq neq lt lte
 * gt gte in like ilike is match imatch isdistinct, `not.`), with quotes, backslashes, commas and
 * parentheses. Each join must be answered. While those subscriptions are live, the control client's
 * rows (their task carrying hostile text too, so the hostile filters are evaluated on it) are
 * inserted: the control must receive every one. One subscriber's filter must never cost another
 * subscriber its changes, nor the server its event loop.
 */
const env = new FuzzEnv();
/** The hostile sockets of the last run: live through its invariants, closed when the next starts. */
const lingering = new Lingering();
const closeLingering = () => lingering.closeAll();
/** How joins were answered: a fuzz run that never subscribes tests nothing. */
const answers = new Tally('postgres_changes answers');
useStack(env, { tallies: [answers], cleanup: closeLingering });

// Mostly `task` (text: every operator casts), so most hostile filters are accepted and then run.
const column = fc.oneof(
  { weight: 16, arbitrary: fc.constant('task') },
  { weight: 3, arbitrary: fc.constantFrom('id', 'user_id', 'is_complete', 'inserted_at') },
  { weight: 1, arbitrary: fc.constantFrom('nope', '', '"task"', 'ID', 'task;', 'id,task', 'task)', 'é') },
);

const op = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom<string>(...FILTER_OPS) },
  { weight: 1, arbitrary: fc.constantFrom('', 'eqq', 'EQ', 'not', 'cs', 'fts', 'in.') },
);

/** Characters that mean something to the filter parser, SQL patterns, regexes or casts. */
const FILTER_CHARS = [...'abcxyz019%_\\"\'(),.*[]^$|?+- é'];

const filterValue = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '1',
      '0',
      '-1',
      '9'.repeat(30),
      '1.5',
      'null',
      'true',
      'false',
      'NULL',
      'abc',
      'abc\\',
      '%\\',
      '\\',
      '\\\\',
      '%',
      '_',
      '.*',
      '(',
      '[',
      '*)',
      '(1,2,3)',
      '(a,"b,c")',
      '()',
      '("a\\"b")',
      '"quoted"',
      '"unterminated',
      "'",
      "'; select pg_sleep(10); --",
      'a,b',
      '00000000-0000-0000-0000-000000000000',
      '2024-01-01',
      'infinity',
      'NaN',
      '\u0000',
      '(((((',
      `(${Array.from({ length: 120 }, (_, i) => i).join(',')})`,
    ),
  },
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...FILTER_CHARS), maxLength: 12 }) },
  { weight: 1, arbitrary: hostileString },
);

/** Characters without a top-level comma: such values stay one segment, so the filter is parsed. */
const SEGMENT_CHARS = FILTER_CHARS.filter((c) => c !== ',');

/**
 * A value for `op`: mostly one the parser accepts (so the filter is registered and then run). LIKE
 * and regex patterns are evaluated lazily: one that fails on the first character of the row never
 * reaches its broken end, so patterns often start with a wildcard and end with an escape or quote.
 */
const valueFor = (o: string): fc.Arbitrary<string> => {
  if (o === 'in') {
    return fc.oneof(
      { weight: 4, arbitrary: fc.array(filterValue, { maxLength: 4 }).map((vs) => `(${vs.join(',')})`) },
      { weight: 1, arbitrary: filterValue },
    );
  }
  if (o === 'is') {
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('null', 'true', 'false', 'unknown') },
      { weight: 1, arbitrary: filterValue },
    );
  }
  const body = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...SEGMENT_CHARS), maxLength: 12 }) },
    { weight: 2, arbitrary: filterValue },
  );
  if (!['like', 'ilike', 'match', 'imatch'].includes(o)) return body;
  const wild = o.endsWith('like') ? ['%', 'ctl%', '_%'] : ['.*', '^ctl.*', '(.*)'];
  return fc
    .tuple(fc.constantFrom('', ...wild), body, fc.constantFrom('', '', '\\', '%', '%\\', '"', '[', '('))
    .map(([prefix, b, suffix]) => `${prefix}${b}${suffix}`);
};

const segment = fc
  .tuple(column, fc.boolean(), op)
  .chain(([c, not, o]) => valueFor(o).map((value) => `${c}=${not ? 'not.' : ''}${o}.${value}`));

/** A `filter` param: segments joined as clients (and attackers) join them, or anything at all. */
const filterString: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc
      .tuple(
        fc.oneof(
          { weight: 4, arbitrary: segment.map((x) => [x]) },
          { weight: 1, arbitrary: fc.array(segment, { minLength: 2, maxLength: 3 }) },
        ),
        fc.constantFrom(',', ',', ',', ', ', ',,', ' , '),
      )
      .map(([segments, sep]) => segments.join(sep)),
  },
  { weight: 1, arbitrary: hostileString },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.constantFrom(...FILTER_CHARS, '=', 'e', 'q'), maxLength: 30 }),
  },
);

/** Present in about `percent`% of cases; shrinks towards absent. */
const sometimes = <T>(arb: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(undefined) }, { weight: percent, arbitrary: arb });

/** Mostly `usual` (so the binding is accepted), now and then an odd name or any tree, rarely absent. */
const mostlyName = (usual: string, odd: Tree[]): fc.Arbitrary<Tree | undefined> =>
  sometimes(
    fc.oneof(
      { weight: 20, arbitrary: fc.constant<Tree>(usual) },
      { weight: 2, arbitrary: fc.constantFrom<Tree>(...odd) },
      { weight: 1, arbitrary: tree },
    ),
    97,
  );

/**
 * A binding's params: mostly a well-formed todos binding with a hostile filter (so subscriptions
 * are accepted and their filters run on every change), sometimes odd schema/table/event/select,
 * now and then nested junk beside, or anything at all in its place.
 */
const binding: fc.Arbitrary<Tree> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .record(
        {
          event: sometimes(
            fc.oneof(
              { weight: 6, arbitrary: fc.constantFrom<Tree>('*', 'INSERT', 'UPDATE', 'DELETE', 'insert') },
              { weight: 1, arbitrary: fc.constantFrom<Tree>('TRUNCATE', '', 'all') },
              { weight: 1, arbitrary: tree },
            ),
            85,
          ),
          schema: mostlyName('public', [
            'auth',
            'realtime',
            '*',
            'pg_catalog',
            'PUBLIC',
            '"public"',
            '',
            'public; drop table todos',
          ]),
          table: mostlyName('todos', ['*', 'tickets', 'nope', 'TODOS', '"todos"', 'pg_class', 'users']),
          filter: sometimes(
            fc.oneof({ weight: 20, arbitrary: filterString }, { weight: 1, arbitrary: tree }),
            85,
          ),
          select: sometimes(
            fc.oneof(
              fc.array(fc.constantFrom<Tree>('id', 'task', 'user_id', 'nope', '', '*', 1), { maxLength: 3 }),
              fc.constantFrom<Tree>('id,task', null),
              tree,
            ),
            15,
          ),
          user_token: sometimes(hostileString, 10),
          junk: sometimes(
            fc.oneof(
              tree,
              fc.integer({ min: 1, max: 60 }).map((n) => new Deep(n, 'array') as Tree),
            ),
            10,
          ),
        },
        { noNullPrototype: true },
      )
      .map((b) => Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) as Tree),
  },
  { weight: 1, arbitrary: tree },
  // No schema or table, nested junk beside: refused with the params rendered into the message.
  {
    weight: 1,
    arbitrary: fc
      .tuple(hostileString, fc.integer({ min: 1, max: 64 }))
      .map(([k, n]) => ({ [k]: new Deep(n, 'array') }) as Tree),
  },
);

interface ChangesRun {
  vsn: Vsn;
  channels: { bindings: Tree; token?: TokenRecipe | undefined }[];
  /** Goes into the control's rows: what the hostile filters are evaluated on. */
  rowText: string;
}

const runArb = (vsn: Vsn): fc.Arbitrary<ChangesRun> =>
  fc.record(
    {
      vsn: fc.constant(vsn),
      channels: fc.array(
        fc.record(
          {
            bindings: fc.oneof(
              {
                weight: 6,
                arbitrary: fc.array(binding, { minLength: 1, maxLength: 3 }).map((b) => b as Tree),
              },
              { weight: 1, arbitrary: tree },
            ),
            // Mostly none: the join then uses the socket's anon key and can subscribe.
            token: sometimes(hostileToken, 20),
          },
          { noNullPrototype: true },
        ),
        { minLength: 1, maxLength: 3 },
      ),
      rowText: fc.oneof(
        hostileString,
        fc.string({ unit: fc.constantFrom(...FILTER_CHARS), maxLength: 16 }),
        fc.constantFrom('abc', '%', '\\', 'é'),
      ),
    },
    { noNullPrototype: true },
  );

function systemOf(topic: string) {
  return (f: Received) => {
    const m = asMsg(f);
    const p = m?.payload as { extension?: unknown } | undefined;
    return !!m && m.topic === topic && m.event === 'system' && p?.extension === 'postgres_changes';
  };
}

async function changesRun(run: ChangesRun): Promise<string> {
  closeLingering();
  const { vsn } = run;
  const target = env.target;
  const sock = await openAnonSocket(target, vsn);
  lingering.keep(sock);
  const sent: string[] = [];
  const fail = (problems: string[]) =>
    new Error(
      `invariant 3 (vsn ${vsn}): ${problems.join('; ')}\nsent:\n${sent.join('\n')}${env.log.tail(8)}`,
    );
  for (const [i, ch] of run.channels.entries()) {
    const topic = `realtime:fz-changes-${i}`;
    const payload: Tree = {
      config: { postgres_changes: ch.bindings },
      ...(ch.token ? { access_token: tokenText(ch.token, target) } : {}),
    };
    const ref = `c${i}`;
    const wire = buildFrame({ k: 'msg', joinRef: ref, ref, topic, event: 'phx_join', payload }, vsn);
    if (wire.kind !== 'message') throw new Error('unreachable');
    sent.push(`  ${previewBytes(wire.data, false)}`);
    const expected: Outcome = expectedOutcome(wire, vsn);
    sock.put(wire);
    const reply = await capped(
      `the reply to a postgres_changes join (${topic})`,
      sock.until(isReply(topic, ref)),
    ).catch((error: Error) => {
      throw fail([error.message]);
    });
    if ('closed' in reply || expected.close !== false) {
      const problems = judgeEnd(expected, reply, (k, v) => env.note(k, v));
      if (problems.length) throw fail(problems);
      answers.count(`closed ${'closed' in reply ? reply.closed.code : '?'}`);
      return run.rowText;
    }
    if (ch.token) {
      const problem = judgeJoinReply(ch.token, tokenText(ch.token, target), asMsg(reply.frame)?.payload);
      if (problem) throw fail([problem]);
    }
    const status = (asMsg(reply.frame)?.payload as { status?: string } | undefined)?.status;
    answers.count(`join ${status}`);
    const response = asMsg(reply.frame)?.payload as
      | { response?: { postgres_changes?: unknown[] } }
      | undefined;
    const bindings = response?.response?.postgres_changes;
    if (status === 'ok' && Array.isArray(bindings) && bindings.length > 0) {
      // The subscription is live (or refused) once the system message says so: wait for it, so the
      // control's rows are inserted while every accepted hostile filter is registered.
      const system = await capped(
        `the postgres_changes status of ${topic}`,
        sock.until(systemOf(topic)),
      ).catch((error: Error) => {
        throw fail([error.message]);
      });
      if ('closed' in system) throw fail([`closed while subscribing: ${system.closed.code}`]);
      answers.count(`subscribe ${(asMsg(system.frame)?.payload as { status?: string } | undefined)?.status}`);
    }
  }
  const end = await probe(sock, vsn);
  const problems = judgeEnd({ close: false }, end, (k, v) => env.note(k, v));
  if (problems.length) throw fail(problems);
  return run.rowText;
}

/**
 * Issue 22's shapes: a `like`/`ilike` filter ending in a backslash (the SQL batch failed for every
 * subscriber of the table), and a 156-byte join with 41 nested `[]` in a binding (its error message
 * was rendered in exponential time, stopping the event loop).
 */
const KNOWN: Omit<ChangesRun, 'vsn'>[] = [
  {
    channels: [{ bindings: [{ event: '*', schema: 'public', table: 'todos', filter: 'task=like.%abc\\' }] }],
    rowText: 'abc',
  },
  {
    channels: [
      { bindings: [{ event: 'INSERT', schema: 'public', table: 'todos', filter: 'task=ilike.%\\' }] },
    ],
    rowText: '%',
  },
  { channels: [{ bindings: [{ a: new Deep(41, 'array') }] }], rowText: '' },
];

describe.each(['2.0.0', '1.0.0'] as const)('postgres_changes bindings, vsn %s', (vsn) => {
  const known = KNOWN.map((run): ChangesRun => ({ vsn, ...run }));
  itPassesKnown(env, "issue 22's bindings cost no one else their changes", known, changesRun, 240_000);
  const property = { name: `changes ${vsn}`, arbitrary: runArb(vsn), body: changesRun };
  itFuzzes(env, 'any bindings and filters: every join answered, the control gets every change', {
    ...property,
    runs: 30,
    perRunMs: 300,
  });
});

itEndsWhole(env, { cleanup: closeLingering });
