import { describe, expect, it } from 'vitest';
import { inlineCall, proposeBroadcast } from '../../scripts/init/broadcast-topic.ts';

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

describe('inlineCall: a helper read as the trigger calls it', () => {
  const helper = {
    schema: 'public',
    name: 'notify_room',
    args: ['p_room', 'p_op', 'p_row'],
    source: "begin perform realtime.send(p_row, p_op, 'room:' || p_room, true); end",
  };
  it('puts the arguments in place of the parameters: plain references bare, expressions in parentheses', () => {
    const body = inlineCall(
      'begin perform public.notify_room(NEW.room_id, tg_op, to_jsonb(new)); return null; end',
      helper,
    );
    expect(body).toBe(
      "begin perform realtime.send((to_jsonb(new)), tg_op, 'room:' || NEW.room_id, true); end",
    );
    expect(proposeBroadcast(body)).toEqual({
      expression: "'room:' || NEW.room_id",
      topic: { kind: 'column', prefix: 'room:', column: 'room_id' },
      private: true,
    });
  });

  it('an unqualified call, a parameter that is a prefix of another, and $ in an argument', () => {
    const body = inlineCall("perform notify_room(new.id::text, '$1', '{}')", {
      ...helper,
      args: ['p_room', 'p_room_kind', ''],
      source: "perform realtime.send('{}', p_room_kind, 'room:' || p_room, true)",
    });
    expect(body).toBe("perform realtime.send('{}', ('$1'), 'room:' || new.id::text, true)");
  });

  it('leaves the body as it is when the call is not found', () => {
    expect(inlineCall('perform other(1)', helper)).toBe(helper.source);
  });
});
