import { parseArgs } from 'node:util';
import { startStack } from './index.ts';
import { describeKey } from './keys.ts';

const { values } = parseArgs({
  options: {
    persist: { type: 'string' },
    'show-secrets': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`npm run stack [-- options]

  --persist DIR      keep the database in DIR across runs (default: temp dir, removed on exit)
  --show-secrets     print service-role keys in full (default: name + fingerprint)
`);
  process.exit(0);
}

const started = performance.now();
const stack = await startStack({ persistDir: values.persist }).catch((error: Error) => {
  console.error(`Could not start the stack: ${error.message}`);
  process.exit(1);
});
const p = stack.local.config;
const secret = (v: string) => (values['show-secrets'] ? v : describeKey(p, v));
const rows: [string, string][] = [
  ['API URL', p.publicUrl],
  ['REST URL', `${p.publicUrl}/rest/v1`],
  ['Auth URL', `${p.publicUrl}/auth/v1`],
  ['Realtime URL', `${p.publicUrl.replace(/^http/, 'ws')}/realtime/v1`],
  ['DB URL', `postgresql://postgres:postgres@127.0.0.1:${stack.cluster.port}/postgres`],
  ['Publishable key', p.publishableKey],
  ['Secret key', secret(p.secretKey)],
  ['anon key', p.anonKey],
  ['service_role key', secret(p.serviceRoleKey)],
  ['JWT secret', secret(p.jwtSecret)],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log(
  `\nEmbedded stack ready in ${Math.round(performance.now() - started)} ms (project "${p.name}")\n`,
);
for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
console.log('\nCtrl-C stops everything.');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the stack…`);
    stack.stop().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`Stopping failed: ${error.message}`);
        process.exit(1);
      },
    );
  });
}
