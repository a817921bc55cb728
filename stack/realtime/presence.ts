import { randomBytes } from 'node:crypto';
import { type Hub, Hub as HubClass, type Member } from './hub.ts';
import { message } from './wire/message.ts';

type Meta = Record<string, unknown> & { phx_ref: string };
type Grouped = Record<string, { metas: Meta[] }>;

interface Entry {
  key: string;
  meta: Meta;
}

/**
 * Phoenix.Presence for one server: who tracks what under which key on each topic. Every change is
 * broadcast to all members of the topic as `presence_diff` (`[null,null,topic,"presence_diff",
 * {joins,leaves}]`), and a joining channel asks for the grouped `presence_state`.
 */
export class PresenceRegistry {
  private readonly topics = new Map<string, Map<Member, Entry>>();

  constructor(private readonly hub: Hub) {}

  track(
    topic: string,
    isPrivate: boolean,
    owner: Member,
    key: string,
    payload: Record<string, unknown>,
  ): void {
    const hubKey = HubClass.key(topic, isPrivate);
    const entries = this.entries(hubKey);
    const previous = entries.get(owner);
    const meta: Meta = { ...payload, phx_ref: newRef() };
    const joins: Grouped = {};
    const leaves: Grouped = {};
    if (previous) {
      // Phoenix.Tracker.update: the new meta joins pointing at the one it replaces, which leaves.
      meta['phx_ref_prev'] = previous.meta.phx_ref;
      add(leaves, previous.key, previous.meta);
    }
    entries.set(owner, { key, meta });
    add(joins, key, meta);
    this.hub.fanout(hubKey, message(null, null, topic, 'presence_diff', { joins, leaves }));
  }

  untrack(topic: string, isPrivate: boolean, owner: Member): void {
    const hubKey = HubClass.key(topic, isPrivate);
    const entries = this.topics.get(hubKey);
    const previous = entries?.get(owner);
    if (!entries || !previous) return;
    entries.delete(owner);
    if (entries.size === 0) this.topics.delete(hubKey);
    const leaves: Grouped = {};
    add(leaves, previous.key, previous.meta);
    this.hub.fanout(hubKey, message(null, null, topic, 'presence_diff', { joins: {}, leaves }));
  }

  /** `Phoenix.Presence.group(list)`: metas grouped by key. */
  state(topic: string, isPrivate: boolean): Grouped {
    const grouped: Grouped = {};
    for (const { key, meta } of this.topics.get(HubClass.key(topic, isPrivate))?.values() ?? []) {
      add(grouped, key, meta);
    }
    return grouped;
  }

  private entries(hubKey: string): Map<Member, Entry> {
    let entries = this.topics.get(hubKey);
    if (!entries) {
      entries = new Map();
      this.topics.set(hubKey, entries);
    }
    return entries;
  }
}

function add(grouped: Grouped, key: string, meta: Meta): void {
  const slot = grouped[key] ?? { metas: [] };
  slot.metas.push(meta);
  grouped[key] = slot;
}

/** Phoenix presence refs are short opaque strings (`F5y…`); only uniqueness matters to clients. */
function newRef(): string {
  return randomBytes(8).toString('base64url');
}
