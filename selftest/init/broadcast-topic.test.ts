import { describe, expect, it } from 'vitest';
import { proposeBroadcast } from '../../scripts/init/broadcast-topic.ts';

describe("init reads a Broadcast trigger's topic from its function body", () => {
  const changes = (topic: string) =>
    `begin\n  perform realtime.broadcast_changes(${topic}, tg_op, tg_op, tg_table_name, tg_table_schema, new, old);\n  return null;\nend`;

  it.each([
    ["'room:' || NEW.room_id", 'room:', 'room_id'],
    ["'room:' || new.room_id::text", 'room:', 'room_id'],
    ["'room:' || coalesce(new.room_id, old.room_id)::text", 'room:', 'room_id'],
    ["'topic:' || (NEW.id)::varchar", 'topic:', 'id'],
    ["'it''s:' || new.owner", "it's:", 'owner'],
  ])('%s: a prefix and a column', (expression, prefix, column) => {
    expect(proposeBroadcast(changes(expression))).toEqual({
      expression,
      topic: { kind: 'column', prefix, column },
      private: true,
    });
  });

  it('a literal is a constant topic', () => {
    expect(proposeBroadcast(changes("'scores'")).topic).toEqual({ kind: 'constant', value: 'scores' });
  });

  it.each([
    "'room:' || new.room_id || ':' || new.kind",
    "format('room:%s', new.room_id)",
    "'room:' || coalesce(new.room_id, old.other)",
    'v_topic',
  ])('%s: quoted, not guessed', (expression) => {
    expect(proposeBroadcast(changes(expression))).toEqual({ expression, private: true });
  });

  it('realtime.send: the third argument is the topic; the event and `private` when literal', () => {
    expect(
      proposeBroadcast(
        "perform realtime.send(jsonb_build_object('a', 1), 'ping', 'user:' || new.id, false);",
      ),
    ).toEqual({
      expression: "'user:' || new.id",
      topic: { kind: 'column', prefix: 'user:', column: 'id' },
      event: 'ping',
      private: false,
    });
    // private defaults to true; an expression for it is left open.
    expect(proposeBroadcast("perform realtime.send(p, tg_op, 'news');")).toEqual({
      expression: "'news'",
      topic: { kind: 'constant', value: 'news' },
      private: true,
    });
    expect(proposeBroadcast("perform realtime.send(p, 'e', 'news', new.is_private);")).toEqual({
      expression: "'news'",
      topic: { kind: 'constant', value: 'news' },
      event: 'e',
    });
  });

  it('no call, or an unbalanced one: nothing proposed', () => {
    expect(proposeBroadcast('begin return null; end')).toEqual({});
    expect(proposeBroadcast("perform realtime.broadcast_changes('room:' || (new.id")).toEqual({});
  });
});
