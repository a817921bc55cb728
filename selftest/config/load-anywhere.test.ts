import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configFilePath, loadMatrixConfig, MatrixConfigError } from '../../fixtures/config/matrix-config.ts';
import { ROOT } from '../catalogue/support/matrix.ts';
import { listMatrix } from '../support/playwright-list.ts';

/**
 * A team keeps its config in its own folder, not in this repo: `.ts`, `.mts`, `.js` or `.mjs`, in a
 * folder with no package.json, in a CommonJS package or an ES one. Each importing `defineMatrix` from
 * 'realtime-matrix', which nothing there can resolve by itself: the loader maps it to this checkout.
 * The files live under os.tmpdir(), outside the repo and its package.json.
 */
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `rtm-${prefix}-`));
  made.push(dir);
  return dir;
}

/** The package.json Node would apply to a file in `dir`, if any. */
function nearestPackageJson(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return join(d, 'package.json');
    if (dirname(d) === d) return undefined;
  }
}

type PackageType = 'none' | 'no type' | 'commonjs' | 'module';

/** A folder as a team has it: with the package.json of the given kind, or none at all. */
function appFolder(kind: PackageType): string {
  const dir = tempDir(kind.replace(' ', '-'));
  if (kind === 'no type') writeFileSync(join(dir, 'package.json'), '{ "name": "their-app" }\n');
  if (kind === 'commonjs' || kind === 'module') {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'their-app', type: kind }));
  }
  return dir;
}

/** The smallest config, in TypeScript or in JavaScript. */
function configSource(name: string, typescript: boolean): string {
  const portals = `const portals = {\n  buyer: { urlKey: 'PORTAL_BUYER_URL', user: { emailKey: 'USER_BUYER_EMAIL' }, signedIn: { url: /\\/home$/ } },\n};\n`;
  return [
    typescript
      ? `import { defineMatrix, type RowContext, type StackApp } from 'realtime-matrix';`
      : `import { defineMatrix } from 'realtime-matrix';`,
    portals,
    typescript ? 'const none: StackApp | undefined = undefined;' : 'const none = undefined;',
    'export default defineMatrix({',
    `  name: ${JSON.stringify(name)},`,
    `  table: { name: 'orders', tagColumn: 'note' },`,
    typescript
      ? '  row: ({ runTag }: RowContext) => ({ note: runTag }),'
      : '  row: ({ runTag }) => ({ note: runTag }),',
    '  portals,',
    '  ...(none ? { embedded: none } : {}),',
    '});',
    '',
  ].join('\n');
}

const cases: { file: string; pkg: PackageType }[] = [
  { file: 'realtime-matrix.config.ts', pkg: 'none' },
  { file: 'realtime-matrix.config.ts', pkg: 'no type' },
  { file: 'realtime-matrix.config.ts', pkg: 'commonjs' },
  { file: 'realtime-matrix.config.ts', pkg: 'module' },
  { file: 'realtime-matrix.config.mts', pkg: 'none' },
  { file: 'realtime-matrix.config.mts', pkg: 'commonjs' },
  { file: 'realtime-matrix.config.js', pkg: 'none' },
  { file: 'realtime-matrix.config.js', pkg: 'commonjs' },
  { file: 'realtime-matrix.config.js', pkg: 'module' },
  { file: 'realtime-matrix.config.mjs', pkg: 'commonjs' },
  { file: 'realtime-matrix.config.mjs', pkg: 'module' },
];

describe('a config outside the repo loads, importing defineMatrix from realtime-matrix', () => {
  it.each(cases)('$file in a folder with package.json: $pkg', async ({ file, pkg }) => {
    const dir = appFolder(pkg);
    if (pkg === 'none') expect(nearestPackageJson(dir)).toBeUndefined();
    const path = join(dir, file);
    const name = `shop-${file.split('.').pop()}-${pkg.replace(' ', '-')}`;
    writeFileSync(path, configSource(name, /\.m?ts$/.test(file)));

    const config = await loadMatrixConfig(path);
    expect(config).toMatchObject({
      name,
      configFile: path,
      environmentsDir: join(dir, 'environments'),
      portalNames: ['buyer'],
      table: { schema: 'public', name: 'orders', primaryKey: ['id'], tagColumn: 'note' },
    });
    expect(
      config.row({ user: { id: 'u', email: 'e' }, portal: 'buyer', env: 'x', runTag: 't', label: 'l' }),
    ).toEqual({ note: 't' });
  });

  it('a TypeScript helper the config imports loads as an ES module too, in a CommonJS package', async () => {
    const dir = appFolder('commonjs');
    // The helper uses the public API at run time: compiled as CommonJS, it would `require` the name,
    // which nothing resolves outside the repo.
    writeFileSync(
      join(dir, 'base.ts'),
      [
        `import { defineMatrix, type PortalConfig } from 'realtime-matrix';`,
        `const member: PortalConfig = { urlKey: 'PORTAL_MEMBER_URL', user: { emailKey: 'USER_MEMBER_EMAIL' }, signedIn: { url: /\\/rooms$/ } };`,
        `export const base = defineMatrix({ name: 'chat', table: { name: 'messages', tagColumn: 'body' }, row: ({ runTag }) => ({ body: runTag }), portals: { member } });`,
        '',
      ].join('\n'),
    );
    const path = join(dir, 'chat.config.ts');
    writeFileSync(
      path,
      `import { defineMatrix } from 'realtime-matrix';\nimport { base } from './base.ts';\nexport default defineMatrix({ ...base, environmentsDir: 'envs' });\n`,
    );
    const config = await loadMatrixConfig(path);
    expect(config).toMatchObject({
      name: 'chat',
      portalNames: ['member'],
      environmentsDir: join(dir, 'envs'),
    });
  });

  it('RTM_CONFIG relative to the working directory, and absolute, name the same file', async () => {
    const dir = appFolder('none');
    mkdirSync(join(dir, 'ops'));
    const path = join(dir, 'ops', 'matrix.config.ts');
    writeFileSync(path, configSource('relative', true));

    const fromRelative = configFilePath({ RTM_CONFIG: 'ops/matrix.config.ts' }, dir);
    const fromAbsolute = configFilePath({ RTM_CONFIG: path }, ROOT);
    expect(fromRelative).toBe(path);
    expect(fromAbsolute).toBe(path);
    expect(configFilePath({ RTM_CONFIG: relative(ROOT, path) }, ROOT)).toBe(path);
    await expect(loadMatrixConfig(fromRelative)).resolves.toMatchObject({
      name: 'relative',
      configFile: path,
    });
  });
});

describe('a config that cannot load says so, naming the file', () => {
  const label = (path: string) => relative(process.cwd(), path);
  /** The start of the message, as long as the prefix expected there: the file, then "could not be loaded". */
  const beginning = (error: unknown, path: string) =>
    (error as Error).message.slice(0, `${label(path)}: could not be loaded: `.length);

  it('a syntax error', async () => {
    const dir = appFolder('none');
    const path = join(dir, 'broken.config.ts');
    writeFileSync(
      path,
      `import { defineMatrix } from 'realtime-matrix';\nexport default defineMatrix({ name: 'x', \n`,
    );
    const error = await loadMatrixConfig(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MatrixConfigError);
    expect(beginning(error, path)).toBe(`${label(path)}: could not be loaded: `);
    // esbuild's own words, with the line it stopped at.
    expect((error as Error).message).toContain('broken.config.ts:3');
  });

  it('a subpath realtime-matrix does not export', async () => {
    const dir = appFolder('commonjs');
    const path = join(dir, 'subpath.config.mjs');
    writeFileSync(path, `export { defineMatrix as default } from 'realtime-matrix/internals';\n`);
    const error = await loadMatrixConfig(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MatrixConfigError);
    expect(beginning(error, path)).toBe(`${label(path)}: could not be loaded: `);
    expect((error as Error).message).toContain(`'./internals' is not defined by "exports"`);
  });

  it('a valid module whose default export is not a config', async () => {
    const dir = appFolder('none');
    const path = join(dir, 'empty.config.ts');
    writeFileSync(
      path,
      `import { defineMatrix } from 'realtime-matrix';\nexport const unused = defineMatrix;\n`,
    );
    await expect(loadMatrixConfig(path)).rejects.toThrow(`${label(path)}: has no default export`);
  });
});

describe('the matrix CLI with a config outside the repo', () => {
  it('`playwright test --list` lists that config’s <portal>-<env> projects', {
    timeout: 90_000,
  }, async () => {
    const dir = appFolder('none');
    expect(nearestPackageJson(dir)).toBeUndefined();
    const portal = (name: string) =>
      `  ${name}: { urlKey: 'PORTAL_${name.toUpperCase()}_URL', user: { emailKey: 'USER_${name.toUpperCase()}_EMAIL' }, signedIn: { url: /\\/home$/ } },`;
    writeFileSync(
      join(dir, 'realtime-matrix.config.ts'),
      [
        `import { defineMatrix } from 'realtime-matrix';`,
        'export default defineMatrix({',
        `  name: 'shop',`,
        // Beside the config, as examples/chat keeps its own.
        `  environmentsDir: 'envs',`,
        `  table: { name: 'orders', tagColumn: 'note' },`,
        '  row: ({ runTag }) => ({ note: runTag }),',
        `  portals: {\n${portal('buyer')}\n${portal('seller')}\n  },`,
        '});',
        '',
      ].join('\n'),
    );
    mkdirSync(join(dir, 'envs'));
    for (const env of ['staging', 'live']) {
      writeFileSync(
        join(dir, 'envs', `${env}.env`),
        [
          // External: a listing needs neither the embedded stack nor an `embedded` section.
          'TARGET_KIND=external',
          `SUPABASE_URL=https://${env}.example.supabase.co`,
          'SUPABASE_ANON_KEY=anon-key-of-the-example',
          `PORTAL_BUYER_URL=https://buy.${env}.example.com`,
          `PORTAL_SELLER_URL=https://sell.${env}.example.com`,
          'USER_BUYER_EMAIL=buyer@example.com',
          'USER_SELLER_EMAIL=seller@example.com',
          'LATENCY_BUDGET_MS=2000',
          '',
        ].join('\n'),
      );
    }

    // Relative to the working directory (the repo, where playwright.config.ts is).
    const run = await listMatrix({ RTM_CONFIG: relative(ROOT, join(dir, 'realtime-matrix.config.ts')) });
    expect(run.code, run.output).toBe(0);
    const projects = [...run.output.matchAll(/^\s*\[([a-z0-9-]+)\] ›/gm)].map((m) => m[1]);
    expect(projects.sort()).toEqual(['buyer-live', 'buyer-staging', 'seller-live', 'seller-staging']);
  });
});
