import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_APP } from '../../examples/chat/stack-app.ts';
import type { Stack } from '../../stack/index.ts';
import { client, startTestStack } from '../support/stack.ts';

/**
 * "Allow public access" off is a project setting a team mirrors per environment in its StackApp
 * (`realtime.privateOnly`): here on for local only. A public join there is refused with the hosted
 * reason; a private join of the same topic is judged by its read check as usual.
 */
let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack({
    app: { ...CHAT_APP, realtime: { privateOnly: { local: true } } },
    envs: ['local'],
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

function subscribe(isPrivate: boolean): Promise<{ status: string; message?: string }> {
  const supabase = client(stack);
  return new Promise((resolve) => {
    supabase.channel('room:1', { config: { private: isPrivate } }).subscribe((status, error) => {
      if (status === 'SUBSCRIBED' || status === 'CHANNEL_ERROR') {
        void supabase.removeAllChannels();
        resolve({ status, ...(error ? { message: error.message } : {}) });
      }
    });
  });
}

describe('StackApp realtime.privateOnly', () => {
  it('sets the project setting for the environments it names', () => {
    expect(stack.local.config.realtimePrivateOnly).toBe(true);
  });

  it('refuses a public join with PrivateOnly; a private one is judged by the read check', async () => {
    expect(await subscribe(false)).toEqual({
      status: 'CHANNEL_ERROR',
      message: 'PrivateOnly: This project only allows private channels',
    });
    // Anon has no SELECT policy on realtime.messages for room:1 in the chat app.
    expect(await subscribe(true)).toEqual({
      status: 'CHANNEL_ERROR',
      message: 'Unauthorized: You do not have permissions to read from this Channel topic: room:1',
    });
  });
});
