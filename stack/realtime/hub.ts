import type { Outgoing } from './wire/message.ts';

/** Anything joined to a topic that can be handed a server frame (a channel). */
export interface Member {
  /** Delivery never throws: a member that cannot take the frame drops it or closes its socket. */
  push(out: Outgoing): void;
}

/**
 * Who is joined to which topic, for broadcast and presence fan-out. Public and private channels of
 * one name are separate audiences, as hosted keys them by `tenant_topic(…, public?)`.
 */
export class Hub {
  private readonly topics = new Map<string, Set<Member>>();

  /** `onError` hears of a member that broke its promise not to throw; the fan-out goes on. */
  constructor(private readonly onError: (error: unknown, key: string) => void = () => {}) {}

  static key(topic: string, isPrivate: boolean): string {
    return `${isPrivate ? 'private' : 'public'}|${topic}`;
  }

  add(key: string, member: Member): void {
    let set = this.topics.get(key);
    if (!set) {
      set = new Set();
      this.topics.set(key, set);
    }
    set.add(member);
  }

  remove(key: string, member: Member): void {
    const set = this.topics.get(key);
    if (!set) return;
    set.delete(member);
    if (set.size === 0) this.topics.delete(key);
  }

  /** Deliver to every member of the topic except `except` (the sender, unless it asked for self). */
  fanout(key: string, out: Outgoing, except?: Member): number {
    const set = this.topics.get(key);
    if (!set) return 0;
    let n = 0;
    for (const member of [...set]) {
      if (member === except) continue;
      try {
        member.push(out);
        n++;
      } catch (error) {
        this.onError(error, key);
      }
    }
    return n;
  }

  size(key: string): number {
    return this.topics.get(key)?.size ?? 0;
  }
}
