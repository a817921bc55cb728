import { describe, expect, it } from 'vitest';
import { describeIdentity, inspectToken, isUserIdentity } from '../../fixtures/identity.ts';
import { describeApiKey, redactText, redactUrl, redactValue, unsignedJwt } from '../../fixtures/redact.ts';
import { DEMO, fingerprint } from '../../stack/keys.ts';
import { USER_ID, userToken } from './support/evidence-builder.ts';

describe('redaction', () => {
  it('a user JWT keeps header and claims but loses its signature', async () => {
    const token = await userToken();
    const [h, c] = token.split('.');
    expect(unsignedJwt(token)).toBe(`${h}.${c}.<signature removed>`);
    expect(redactText(`Bearer ${token}!`)).toBe(`Bearer ${h}.${c}.<signature removed>!`);
  });

  it('API keys become role + fingerprint, opaque sb_ keys too', () => {
    expect(describeApiKey(DEMO.anonKey)).toBe(`<anon key ${fingerprint(DEMO.anonKey)}>`);
    expect(describeApiKey(DEMO.serviceRoleKey)).toBe(
      `<service_role key ${fingerprint(DEMO.serviceRoleKey)}>`,
    );
    expect(redactText(`key=${DEMO.secretKey}.`)).toBe(`key=<sb_secret key ${fingerprint(DEMO.secretKey)}>.`);
    expect(redactText(DEMO.publishableKey)).toBe(`<sb_publishable key ${fingerprint(DEMO.publishableKey)}>`);
  });

  it('known secrets (passwords) become a fingerprint wherever they appear', () => {
    expect(redactText('pw is hunter2-long, again hunter2-long', ['hunter2-long'])).toBe(
      `pw is <secret ${fingerprint('hunter2-long')}>, again <secret ${fingerprint('hunter2-long')}>`,
    );
  });

  it('walks JSON values and keeps their shape', async () => {
    const token = await userToken();
    const out = redactValue({ a: [token, 1, null], b: { apikey: DEMO.serviceRoleKey }, n: 3 });
    expect(out).toEqual({
      a: [unsignedJwt(token), 1, null],
      b: { apikey: `<service_role key ${fingerprint(DEMO.serviceRoleKey)}>` },
      n: 3,
    });
  });

  it('socket URLs name the apikey instead of showing it', () => {
    const url = `wss://api.prod.localhost:8443/realtime/v1/websocket?apikey=${DEMO.anonKey}&vsn=2.0.0`;
    expect(redactUrl(url)).toBe(
      `wss://api.prod.localhost:8443/realtime/v1/websocket?apikey=<anon key ${fingerprint(DEMO.anonKey)}>&vsn=2.0.0`,
    );
  });
});

describe('identity', () => {
  it('a user access token: role, sub, email, user_role, exp, iss; never the signature', async () => {
    const token = await userToken({ exp: 1795399667 });
    const id = inspectToken(token, 'join_access_token');
    expect(id).toMatchObject({
      source: 'join_access_token',
      kind: 'jwt',
      role: 'authenticated',
      sub: USER_ID,
      email: 'client@helpdesk.test',
      userRole: 'client',
      exp: 1795399667,
      iss: 'http://127.0.0.1:54321/auth/v1',
      fingerprint: fingerprint(token),
    });
    expect(id.unsigned).toMatch(/<signature removed>$/);
    expect(isUserIdentity(id)).toBe(true);
    expect(describeIdentity(id)).toBe(
      'authenticated client@helpdesk.test (user_role client, exp 2026-11-23T02:07:47.000Z)',
    );
  });

  it('the anon key as apikey is an API key identity, not a user', () => {
    const id = inspectToken(DEMO.anonKey, 'url_apikey');
    expect(id).toMatchObject({ kind: 'jwt', role: 'anon', sub: undefined, iss: 'supabase-demo' });
    expect(isUserIdentity(id)).toBe(false);
    expect(describeIdentity(id)).toBe(`anon key ${fingerprint(DEMO.anonKey)}`);
  });

  it('missing, opaque and undecodable tokens', () => {
    expect(inspectToken(undefined, 'join_access_token')).toEqual({
      source: 'join_access_token',
      kind: 'missing',
    });
    expect(inspectToken(DEMO.publishableKey, 'url_apikey')).toEqual({
      source: 'url_apikey',
      kind: 'opaque',
      role: 'anon',
      fingerprint: fingerprint(DEMO.publishableKey),
    });
    const garbage = inspectToken('not-a-jwt', 'access_token_push');
    expect(garbage.kind).toBe('opaque');
    expect(garbage.error).toMatch(/^not a decodable JWT: /);
    expect(isUserIdentity(garbage)).toBe(false);
  });

  it('a service_role token is not a user identity', async () => {
    const id = inspectToken(DEMO.serviceRoleKey, 'join_access_token');
    expect(id.role).toBe('service_role');
    expect(isUserIdentity(id)).toBe(false);
  });
});
