import { randomUUID } from 'node:crypto';
import type { RealtimePostgresChangesPayload, SupabaseClient } from '@supabase/supabase-js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../stack/index.ts';
import { client, startTestStack } from './support/stack.ts';

/**
 * The help-desk schema against the embedded stack, through unmodified supabase-js: the access token
 * hook shapes the JWT, and RLS decides per role what REST returns and what realtime delivers.
 */

const HOOK = 'pg-functions://postgres/public/custom_access_token_hook';
const DEMO_PASSWORD = 'helpdesk-demo-password';
const SEEDED = {
  client: { email: 'client@helpdesk.test', id: '00000000-0000-4000-8000-00000000c001' },
  agent: { email: 'agent@helpdesk.test', id: '00000000-0000-4000-8000-00000000a001' },
  admin: { email: 'admin@helpdesk.test', id: '00000000-0000-4000-8000-00000000ad01' },
} as const;
type Role = keyof typeof SEEDED;
const ROLES = Object.keys(SEEDED) as Role[];

interface TicketRow {
  id: string;
  title: string;
  created_by: string;
  assigned_to: string | null;
}

/** The visibility rule of the contract, stated independently of the SQL it checks. */
function visibleTo(role: Role, t: Pick<TicketRow, 'created_by' | 'assigned_to'>): boolean {
  if (role === 'admin') return true;
  if (role === 'client') return t.created_by === SEEDED.client.id;
  return t.assigned_to === SEEDED.agent.id || t.assigned_to === null;
}

let stack: Stack;
let service: SupabaseClient;
const signedIn = new Map<Role, { supabase: SupabaseClient; accessToken: string }>();

beforeAll(async () => {
  stack = await startTestStack({ local: { accessTokenHook: HOOK } });
  service = client(stack, stack.local.config.serviceRoleKey);
  for (const role of ROLES) {
    const supabase = client(stack);
    const { data, error } = await supabase.auth.signInWithPassword({
      email: SEEDED[role].email,
      password: DEMO_PASSWORD,
    });
    if (error)
      throw new Error(`Seeded ${role} user ${SEEDED[role].email} could not sign in: ${error.message}`);
    signedIn.set(role, { supabase, accessToken: data.session.access_token });
  }
});

afterAll(async () => {
  for (const { supabase } of signedIn.values()) await supabase.removeAllChannels();
  await service?.from('tickets').delete().like('title', '[rtm:schema-%');
  await stack?.stop();
});

/** Insert tickets with the service role, as the matrix does; tagged so they can be told apart. */
async function insertTickets(rows: Omit<TicketRow, 'id'>[]): Promise<TicketRow[]> {
  const { data, error } = await service
    .from('tickets')
    .insert(rows)
    .select('id,title,created_by,assigned_to');
  if (error)
    throw new Error(`Service-role insert of ${rows.length} tickets failed: ${JSON.stringify(error)}`);
  return data as TicketRow[];
}

/** One ticket per visibility case, plus the order they were inserted in. */
function visibilityCases(tag: string): Omit<TicketRow, 'id'>[] {
  return [
    { title: `${tag} client's, unassigned`, created_by: SEEDED.client.id, assigned_to: null },
    {
      title: `${tag} client's, assigned to agent`,
      created_by: SEEDED.client.id,
      assigned_to: SEEDED.agent.id,
    },
    { title: `${tag} admin's, assigned to admin`, created_by: SEEDED.admin.id, assigned_to: SEEDED.admin.id },
    { title: `${tag} admin's, unassigned`, created_by: SEEDED.admin.id, assigned_to: null },
  ];
}

describe('custom access token hook', () => {
  it.each(ROLES)("puts user_role=%s at the top level of that seeded user's JWT", (role) => {
    const claims = decodeJwt(signedIn.get(role)!.accessToken);
    expect(claims).toMatchObject({
      sub: SEEDED[role].id,
      role: 'authenticated',
      email: SEEDED[role].email,
      user_role: role,
    });
  });

  it('puts an explicit null user_role for a user without one, so portals can refuse them', async () => {
    const email = `no-role-${randomUUID()}@helpdesk.test`;
    const password = `pw-${randomUUID()}`;
    const created = await service.auth.admin.createUser({ email, password, email_confirm: true });
    expect(created.error).toBeNull();
    try {
      const supabase = client(stack);
      const { data, error } = await supabase.auth.signInWithPassword({ email, password });
      expect(error).toBeNull();
      const claims = decodeJwt(data.session!.access_token);
      expect(claims).toHaveProperty('user_role', null);
      expect(claims).toHaveProperty('sub', created.data.user!.id);
    } finally {
      await service.auth.admin.deleteUser(created.data.user!.id);
    }
  });

  it('is callable by supabase_auth_admin, not by the anon and authenticated API roles', async () => {
    const event = JSON.stringify({ user_id: SEEDED.agent.id, claims: { sub: SEEDED.agent.id } });
    const db = await stack.local.ctx.db.admin.connect();
    try {
      for (const role of ['anon', 'authenticated']) {
        await db.query('begin');
        await db.query(`set local role ${role}`);
        await expect(db.query('select public.custom_access_token_hook($1::jsonb)', [event])).rejects.toThrow(
          'permission denied for function custom_access_token_hook',
        );
        await db.query('rollback');
      }
      await db.query('begin');
      await db.query('set local role supabase_auth_admin');
      const { rows } = await db.query('select public.custom_access_token_hook($1::jsonb) as out', [event]);
      await db.query('rollback');
      expect(rows[0].out).toEqual({
        user_id: SEEDED.agent.id,
        claims: { sub: SEEDED.agent.id, user_role: 'agent' },
      });
    } finally {
      db.release();
    }
  });
});

describe('row level security through REST', () => {
  it('shows each role exactly the tickets the contract allows, and anon none', async () => {
    const tag = `[rtm:schema-rest-${randomUUID().slice(0, 8)}]`;
    const inserted = await insertTickets(visibilityCases(tag));
    for (const role of ROLES) {
      const { data, error } = await signedIn
        .get(role)!
        .supabase.from('tickets')
        .select('id')
        .like('title', `${tag}%`);
      expect(error, `${role} select`).toBeNull();
      const expected = inserted.filter((t) => visibleTo(role, t)).map((t) => t.id);
      expect(data!.map((r) => r.id).sort(), `tickets visible to ${role}`).toEqual(expected.sort());
    }
    const anon = await client(stack).from('tickets').select('id').like('title', `${tag}%`);
    expect(anon.error).toBeNull();
    expect(anon.data).toEqual([]);
  });

  it("refuses a client opening a ticket in someone else's name (42501, 403)", async () => {
    const { error, status } = await signedIn
      .get('client')!
      .supabase.from('tickets')
      .insert({ title: '[rtm:schema-forged] not mine', created_by: SEEDED.admin.id });
    expect(status).toBe(403);
    expect(error).toMatchObject({
      code: '42501',
      message: 'new row violates row-level security policy for table "tickets"',
    });
  });

  it('lets a client open its own ticket with created_by defaulting to itself', async () => {
    const { data, error } = await signedIn
      .get('client')!
      .supabase.from('tickets')
      .insert({ title: '[rtm:schema-own] printer again' })
      .select('created_by,assigned_to,status')
      .single();
    expect(error).toBeNull();
    expect(data).toEqual({ created_by: SEEDED.client.id, assigned_to: null, status: 'open' });
  });

  it('shows activities and attachments only with a visible ticket', async () => {
    const tag = `[rtm:schema-children-${randomUUID().slice(0, 8)}]`;
    const [mine, adminOnly] = await insertTickets([
      { title: `${tag} client's`, created_by: SEEDED.client.id, assigned_to: null },
      { title: `${tag} admin only`, created_by: SEEDED.admin.id, assigned_to: SEEDED.admin.id },
    ]);
    const activities = await service
      .from('ticket_activities')
      .insert([mine!, adminOnly!].map((t) => ({ ticket_id: t.id, kind: 'comment', body: tag })));
    expect(activities.error).toBeNull();
    const { data, error } = await signedIn
      .get('client')!
      .supabase.from('ticket_activities')
      .select('ticket_id')
      .eq('body', tag);
    expect(error).toBeNull();
    expect(data).toEqual([{ ticket_id: mine!.id }]);
  });
});

/** Everything one subscriber received on its channel, with a way to wait for a condition on it. */
class ChangeLog {
  readonly changes: RealtimePostgresChangesPayload<TicketRow>[] = [];
  private waiters: (() => void)[] = [];

  push(change: RealtimePostgresChangesPayload<TicketRow>): void {
    this.changes.push(change);
    for (const wake of this.waiters) wake();
  }

  /** Ids of this type's changes to rows tagged `tag` (earlier tests' rows may still be streaming). */
  ids(type: 'INSERT' | 'UPDATE', tag: string): string[] {
    return this.changes
      .filter((c) => c.eventType === type && String((c.new as TicketRow).title).startsWith(tag))
      .map((c) => (c.new as TicketRow).id);
  }

  /** Resolve once `done()` holds; on timeout fail with everything received. */
  until(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for ${what}. Received ${this.changes.length} changes: ` +
              JSON.stringify(
                this.changes.map((c) => [c.eventType, (c.new as TicketRow).id ?? (c.old as TicketRow).id]),
              ),
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }
}

/** Subscribe as the portal does and resolve once the server says postgres_changes is ready. */
async function subscribeAs(role: Role, log: ChangeLog): Promise<void> {
  const { supabase, accessToken } = signedIn.get(role)!;
  await supabase.realtime.setAuth(accessToken);
  await new Promise<void>((resolve, reject) => {
    supabase
      .channel(`schema-${role}-${randomUUID()}`)
      .on<TicketRow>('postgres_changes', { event: '*', schema: 'public', table: 'tickets' }, (c) =>
        log.push(c),
      )
      .on('system', {}, (message: { extension?: string; status?: string; message?: string }) => {
        if (message.extension !== 'postgres_changes') return;
        if (message.status === 'ok') resolve();
        else reject(new Error(`postgres_changes for ${role} not ready: ${message.message}`));
      })
      .subscribe((status, error) => {
        if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
          reject(new Error(`${role} channel ${status}: ${error?.message ?? 'no reason given'}`));
        }
      });
  });
}

describe('row level security through realtime postgres_changes', () => {
  it('delivers each role exactly the inserts and updates its policies allow', async () => {
    const logs = new Map(ROLES.map((role) => [role, new ChangeLog()]));
    await Promise.all(ROLES.map((role) => subscribeAs(role, logs.get(role)!)));

    const tag = `[rtm:schema-rt-${randomUUID().slice(0, 8)}]`;
    const inserted = await insertTickets(visibilityCases(tag));
    // Every role sees this one; per-subscriber delivery follows commit order, so once it has
    // arrived everything inserted before it has too, and "nothing else came" is a fact, not a hope.
    const [barrier] = await insertTickets([
      { title: `${tag} barrier`, created_by: SEEDED.client.id, assigned_to: null },
    ]);
    for (const role of ROLES) {
      const log = logs.get(role)!;
      await log.until(`the barrier insert ${barrier!.id} for ${role}`, () =>
        log.ids('INSERT', tag).includes(barrier!.id),
      );
      const expected = inserted.filter((t) => visibleTo(role, t)).map((t) => t.id);
      expect(log.ids('INSERT', tag).sort(), `inserts delivered to ${role}`).toEqual(
        [...expected, barrier!.id].sort(),
      );
    }

    // An update re-checks visibility with the new row: assigning the client's ticket to the admin
    // hides it from the agent.
    const moved = inserted[0]!;
    const update = await service.from('tickets').update({ assigned_to: SEEDED.admin.id }).eq('id', moved.id);
    expect(update.error).toBeNull();
    const renamed = await service
      .from('tickets')
      .update({ title: `${tag} barrier, renamed` })
      .eq('id', barrier!.id);
    expect(renamed.error).toBeNull();
    for (const role of ROLES) {
      const log = logs.get(role)!;
      await log.until(`the barrier update for ${role}`, () => log.ids('UPDATE', tag).includes(barrier!.id));
      const expected = visibleTo(role, { ...moved, assigned_to: SEEDED.admin.id }) ? [moved.id] : [];
      expect(log.ids('UPDATE', tag).sort(), `updates delivered to ${role}`).toEqual(
        [...expected, barrier!.id].sort(),
      );
      const renamedRow = log.changes.find(
        (c) => c.eventType === 'UPDATE' && (c.new as TicketRow).id === barrier!.id,
      );
      expect((renamedRow!.new as TicketRow).title).toBe(`${tag} barrier, renamed`);
    }
  });
});
