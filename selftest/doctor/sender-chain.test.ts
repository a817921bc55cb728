import { describe, expect, it } from 'vitest';
import {
  effectiveDefiner,
  type FunctionInfo,
  senderChain,
  sendersCalled,
} from '../../fixtures/doctor/sender-chain.ts';

const fn = (
  schema: string,
  name: string,
  source: string,
  over: Partial<FunctionInfo> = {},
): FunctionInfo => ({
  schema,
  name,
  source,
  securityDefiner: false,
  owner: 'postgres',
  ownerBypassesRls: true,
  ...over,
});

const names = (chain: FunctionInfo[] | undefined) => chain?.map((f) => `${f.schema}.${f.name}`);

describe('sendersCalled', () => {
  it('reads every spelling of a call to realtime’s senders, once each', () => {
    expect(
      sendersCalled(`perform realtime.broadcast_changes('a', tg_op);
        perform "realtime"."send"(x, 'e', 't', true); perform realtime . send_binary(b, 'e', 't');
        perform realtime.send(y, 'e', 't');`),
    ).toEqual(['realtime.broadcast_changes', 'realtime.send', 'realtime.send_binary']);
    expect(sendersCalled("perform pg_notify('realtime', 'send')")).toEqual([]);
  });
});

describe('senderChain', () => {
  const direct = fn(
    'public',
    'on_message',
    "perform realtime.broadcast_changes('room:' || new.room_id, tg_op);",
  );
  it('a function that calls a sender itself is its own chain', () => {
    expect(names(senderChain(direct, []))).toEqual(['public.on_message']);
  });

  it('follows helpers, qualified or not, quoted or not, up to three deep', () => {
    const send = fn('util', 'Send Room', "perform realtime.send(p, 'e', t, true);");
    const middle = fn('util', 'relay', 'perform util."Send Room"(p, t);');
    const start = fn('public', 'on_message', 'perform util.relay(to_jsonb(new), topic);');
    expect(names(senderChain(start, [send, middle, start]))).toEqual([
      'public.on_message',
      'util.relay',
      'util.Send Room',
    ]);
    const deep = [1, 2, 3, 4].map((i) =>
      fn('public', `h${i}`, i === 4 ? "perform realtime.send(p, 'e', 't');" : `perform h${i + 1}();`),
    );
    const top = fn('public', 'top', 'perform h1();');
    expect(names(senderChain(top, deep, 3))).toBeUndefined();
    expect(names(senderChain(top, deep, 4))).toHaveLength(5);
  });

  it('an unqualified name is the caller’s schema first, then public', () => {
    const mine = fn('app', 'notify', "perform pg_notify('x', 'y');");
    const pub = fn('public', 'notify', "perform realtime.send(p, 'e', 't');");
    const caller = fn('app', 'trg', 'perform notify();');
    expect(senderChain(caller, [mine, pub])).toBeUndefined();
    expect(names(senderChain(fn('other', 'trg', 'perform notify();'), [mine, pub]))).toEqual([
      'other.trg',
      'public.notify',
    ]);
  });

  it('recursion and cycles end; a body with no sender on any path has no chain', () => {
    const a = fn('public', 'a', 'perform b();');
    const b = fn('public', 'b', 'perform a(); perform coalesce(1, 2);');
    expect(senderChain(a, [a, b])).toBeUndefined();
  });
});

describe('effectiveDefiner', () => {
  it('the innermost definer decides; with none, the trigger function is the one to change', () => {
    const trg = fn('public', 'trg', '', { securityDefiner: true, owner: 'postgres' });
    const helper = fn('public', 'helper', '', {
      securityDefiner: true,
      owner: 'app_owner',
      ownerBypassesRls: false,
    });
    expect(effectiveDefiner([trg, helper])).toEqual({
      securityDefiner: true,
      owner: 'app_owner',
      ownerBypassesRls: false,
      function: 'public.helper',
    });
    expect(effectiveDefiner([trg, { ...helper, securityDefiner: false }])).toMatchObject({
      securityDefiner: true,
      owner: 'postgres',
      function: 'public.trg',
    });
    expect(
      effectiveDefiner([
        { ...trg, securityDefiner: false },
        { ...helper, securityDefiner: false },
      ]),
    ).toMatchObject({
      securityDefiner: false,
      function: 'public.trg',
    });
  });
});
