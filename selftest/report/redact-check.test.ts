import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { knownSecrets } from '../../reporters/known-secrets.ts';
import { formatHits, scanPaths, scanText } from '../../reporters/redact-check.ts';
import { DEMO, fingerprint } from '../../stack/keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'rtm-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secret scan', () => {
  it('names every hit by file, line, kind and fingerprint, never by value', () => {
    const text = [
      'ok line',
      `apikey=${DEMO.anonKey}`,
      `service ${DEMO.serviceRoleKey}`,
      `opaque ${DEMO.secretKey}`,
      'redacted eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.<signature removed> is fine',
      'password: correct-horse-battery',
    ].join('\n');
    const hits = scanText('report.html', text, [
      { name: 'env PROD_CLIENT_PASSWORD', value: 'correct-horse-battery' },
    ]);
    expect(hits).toEqual([
      {
        file: 'report.html',
        line: 2,
        what: 'signed JWT (role anon)',
        fingerprint: fingerprint(DEMO.anonKey),
      },
      {
        file: 'report.html',
        line: 3,
        what: 'signed JWT (role service_role)',
        fingerprint: fingerprint(DEMO.serviceRoleKey),
      },
      { file: 'report.html', line: 4, what: 'sb_secret key', fingerprint: fingerprint(DEMO.secretKey) },
      {
        file: 'report.html',
        line: 6,
        what: 'env PROD_CLIENT_PASSWORD',
        fingerprint: fingerprint('correct-horse-battery'),
      },
    ]);
    const printed = formatHits(hits);
    expect(printed).toContain(
      `report.html:3: signed JWT (role service_role) (fingerprint ${fingerprint(DEMO.serviceRoleKey)})`,
    );
    expect(printed).not.toContain(DEMO.serviceRoleKey);
    expect(printed).not.toContain('correct-horse-battery');
  });

  it('knows the runtime file secrets and secret-named environment variables', async () => {
    const root = join(dir, 'repo');
    const runtime = {
      version: 1,
      control: { url: 'http://127.0.0.1:1', token: 'control-token-0123456789' },
      envs: {
        prod: {
          serviceRoleKey: 'prod-service-role-0123456789',
          users: { agent: { email: 'a', password: 'generated-pw-0123456789' } },
        },
      },
    };
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(root, '.stack'), { recursive: true });
    writeFileSync(join(root, '.stack', 'runtime.json'), JSON.stringify(runtime));
    const names = knownSecrets(root, {
      PROD_SUPABASE_SERVICE_ROLE_KEY: 'ci-secret-0123456789',
      HOME: '/root',
    }).map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'runtime.json control.token',
        'runtime.json envs.prod.serviceRoleKey',
        'runtime.json envs.prod.users.agent.password',
        'env PROD_SUPABASE_SERVICE_ROLE_KEY',
        'demo serviceRoleKey',
      ]),
    );
    expect(names).not.toContain('env HOME');

    writeFileSync(
      join(dir, 'other-runtime.json'),
      JSON.stringify({ envs: { local: { serviceRoleKey: 'other-stack-key-0123456789' } } }),
    );
    const viaEnv = knownSecrets(join(dir, 'nowhere'), { RTM_RUNTIME_FILE: join(dir, 'other-runtime.json') });
    expect(viaEnv.map((s) => s.name)).toContain('runtime.json envs.local.serviceRoleKey');

    writeFileSync(join(dir, 'leaky.log'), `line one\nsigned in with generated-pw-0123456789\n`);
    const hits = await scanPaths([join(dir, 'leaky.log')], knownSecrets(root, {}));
    expect(hits.map((h) => `${h.line}:${h.what}`)).toEqual(['2:runtime.json envs.prod.users.agent.password']);
  });
});

describe('secret scan, anon key allowance', () => {
  it('--allow-anon-key accepts the public anon key but still flags user and service JWTs', () => {
    const text = `a ${DEMO.anonKey}\nb ${DEMO.serviceRoleKey}`;
    const hits = scanText('trace.network', text, [], { allowAnonKey: true });
    expect(hits.map((h) => `${h.line}:${h.what}`)).toEqual(['2:signed JWT (role service_role)']);
  });
});
