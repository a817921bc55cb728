/**
 * Invariant 2 of the fuzz suite (settings.ts says how to replay a run): a signed-in client that must
 * keep receiving every change it is owed while hostile clients do their worst.
 */
import { randomUUID } from 'node:crypto';
import { createClient, type RealtimeChannel, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import type { Target } from './child-stack.ts';
import { describeError, type Vsn } from './frames.ts';
import { capped } from './settings.ts';
import { wellFormed } from './well-formed.ts';

/** Unmodified supabase-js on Node 20, as selftest/support/stack.ts makes it. */
export function sbClient(target: Target, key: string, vsn?: Vsn): SupabaseClient {
  return createClient(target.url, key, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never, ...(vsn ? { vsn } : {}) },
  });
}

/** Rows inserted for the control per check. */
export const CONTROL_ROWS = 3;

/**
 * A real user, signed in with supabase-js and subscribed to INSERTs on its own `todos` rows (RLS by
 * user_id, and an eq filter on it as apps write it). After each hostile batch it must receive every
 * row the service role inserts for it.
 */
export class Control {
  private readonly seen = new Set<string>();
  private readonly waiters = new Set<() => void>();
  private status = 'SUBSCRIBED';

  private constructor(
    private readonly admin: SupabaseClient,
    private readonly sb: SupabaseClient,
    readonly userId: string,
    private readonly channel: RealtimeChannel,
  ) {}

  static async create(target: Target, vsn: Vsn = '2.0.0'): Promise<Control> {
    const admin = sbClient(target, target.serviceRoleKey);
    const email = `fuzz-control-${randomUUID()}@example.test`;
    const password = `fuzz-${randomUUID()}`;
    const created = await admin.auth.admin.createUser({ email, password, email_confirm: true });
    if (created.error) throw new Error(`creating the control user failed: ${created.error.message}`);
    const sb = sbClient(target, target.anonKey, vsn);
    const signedIn = await sb.auth.signInWithPassword({ email, password });
    if (signedIn.error) throw new Error(`signing the control user in failed: ${signedIn.error.message}`);
    const userId = created.data.user.id;
    let control!: Control;
    let subscribed!: () => void;
    let failed!: (e: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      subscribed = resolve;
      failed = reject;
    });
    const channel = sb
      .channel(`fuzz-control-${randomUUID()}`)
      .on(
        'postgres_changes',
        { event: 'INSERT', schema: 'public', table: 'todos', filter: `user_id=eq.${userId}` },
        (p) => control.record(String((p.new as { task?: unknown }).task ?? '')),
      )
      .on('system', {}, (m: { extension?: string; status?: string; message?: string }) => {
        if (m.extension !== 'postgres_changes') return;
        if (m.status === 'ok') subscribed();
        else failed(new Error(`control subscription refused: ${m.message}`));
      });
    control = new Control(admin, sb, userId, channel);
    channel.subscribe((status, err) => {
      control.status = status;
      if (status !== 'SUBSCRIBED') failed(new Error(`control channel ${status}: ${err?.message ?? ''}`));
      control.wake();
    });
    await capped('the control client subscribing', ready, 20_000);
    return control;
  }

  private record(task: string): void {
    const id = /^ctl:([^|]*)\|/.exec(task)?.[1];
    if (id) this.seen.add(id);
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * Insert `rows` rows for the control user as the service role and wait until every one arrived.
   * `text` goes into each task so hostile filters of the same table are evaluated on hostile rows.
   */
  async verify(label: string, text = '', rows = CONTROL_ROWS): Promise<void> {
    const ids = Array.from({ length: rows }, (_, i) => `${label}-${i}-${randomUUID().slice(0, 8)}`);
    // Postgres refuses NUL in text and lone surrogates in JSON (`\ud800` → 22P02, as PostgREST
    // passes the body to Postgres too): those become U+FFFD, everything else goes in as generated.
    const clean = wellFormed(text).replaceAll('\u0000', '\ufffd');
    const insert = await capped(
      'the control insert',
      Promise.resolve(
        this.admin
          .from('todos')
          .insert(ids.map((id) => ({ task: `ctl:${id}|${clean}`, user_id: this.userId }))),
      ),
    );
    if (insert.error) throw new Error(`the control insert failed: ${insert.error.message}`);
    const missing = () => ids.filter((id) => !this.seen.has(id));
    try {
      await capped(
        `control client waiting for its ${rows} inserts`,
        new Promise<void>((resolve, reject) => {
          const check = () => {
            if (this.status !== 'SUBSCRIBED') {
              this.waiters.delete(check);
              reject(new Error(`the control channel is ${this.status}`));
            } else if (missing().length === 0) {
              this.waiters.delete(check);
              resolve();
            }
          };
          this.waiters.add(check);
          check();
        }),
        15_000,
      );
    } catch (error) {
      throw new Error(
        `invariant 2: the signed-in control client missed ${missing().length} of ${rows} changes it is owed (${describeError(error)})`,
      );
    }
  }

  async close(alive: boolean): Promise<void> {
    // Leaving the channel is a courtesy to a live stack; the disconnects below end it either way.
    if (alive)
      await capped('removing the control channel', this.sb.removeAllChannels()).catch(() => undefined);
    this.sb.realtime.disconnect();
    this.admin.realtime.disconnect();
  }
}
