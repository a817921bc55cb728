import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { accessTokenHook } from '../../scripts/init/run.ts';
import { ROOT, tempDirs } from './support.ts';

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

describe("init carries config.toml's custom access token hook into the embedded section", () => {
  it('enabled: its pg-functions uri (the help-desk demo has one)', () => {
    expect(accessTokenHook(join(ROOT, 'supabase'))).toBe(
      'pg-functions://postgres/public/custom_access_token_hook',
    );
  });

  it('disabled, in another section, or no config.toml: none', () => {
    const dir = dirs.make('toml');
    expect(accessTokenHook(dir)).toBeUndefined();
    writeFileSync(
      join(dir, 'config.toml'),
      '[auth.hook.custom_access_token]\nenabled = false\nuri = "pg-functions://postgres/public/hook"\n',
    );
    expect(accessTokenHook(dir)).toBeUndefined();
    writeFileSync(
      join(dir, 'config.toml'),
      '[auth.hook.custom_access_token]\nenabled = true\n\n[auth.hook.send_sms]\nuri = "pg-functions://postgres/public/sms"\n',
    );
    expect(accessTokenHook(dir)).toBeUndefined();
  });
});
