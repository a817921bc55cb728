import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSharded, selectedProjects } from '../../fixtures/config/selection.ts';
import { runningStackEnvs, stackWebServer } from '../../fixtures/config/web-server.ts';

const ALL = ['client-local', 'agent-local', 'admin-local', 'client-prod', 'agent-prod', 'admin-prod'];

describe('which projects a run selects', () => {
  it('all by default', () => {
    expect(selectedProjects(['node', 'playwright', 'test'], ALL)).toEqual(ALL);
  });
  it('--project=x, --project x, repeated, with wildcards', () => {
    expect(selectedProjects(['test', '--project=agent-prod'], ALL)).toEqual(['agent-prod']);
    expect(selectedProjects(['test', '--project', '*-prod', '--project=client-local'], ALL)).toEqual([
      'client-local',
      'client-prod',
      'agent-prod',
      'admin-prod',
    ]);
  });
  it('sharding adds the blob report', () => {
    expect(isSharded(['test', '--shard=1/3'])).toBe(true);
    expect(isSharded(['test', '--shard', '2/3'])).toBe(true);
    expect(isSharded(['test'])).toBe(false);
  });
});

describe('the embedded stack as webServer', () => {
  const runtime = (content: object) => {
    const file = join(mkdtempSync(join(tmpdir(), 'rtm-rt-')), 'runtime.json');
    writeFileSync(file, JSON.stringify(content));
    return file;
  };

  it('none when no selected cell targets an embedded environment', () => {
    expect(stackWebServer([], '/nonexistent')).toBeUndefined();
  });

  it('starts `npm run stack` for exactly the needed envs, its boot summary in a file, and waits for its ready line', () => {
    const server = stackWebServer(['local', 'prod'], '/nonexistent/runtime.json');
    expect(server).toMatchObject({
      command:
        'npm run --silent stack -- --env local --env prod --summary-file test-results/stack.log --stop-on-stdin-end',
      reuseExistingServer: true,
      gracefulShutdown: { signal: 'SIGTERM' },
    });
    expect(server?.wait?.stdout?.test('Embedded stack ready in 5321 ms')).toBe(true);
    expect(server).not.toHaveProperty('url');
  });

  it('reuses a live stack that serves the needed envs', () => {
    const file = runtime({ version: 1, pid: process.pid, envs: { local: {}, prod: {} } });
    expect(runningStackEnvs(file)).toEqual(['local', 'prod']);
    expect(stackWebServer(['local'], file)).toMatchObject({ url: 'http://127.0.0.1:54321/rest/v1/' });
    expect(stackWebServer(['prod'], file)).toMatchObject({ port: 8443 });
  });

  it('a runtime file left by a dead process or lacking an env is not reused', () => {
    const dead = runtime({ version: 1, pid: 2 ** 22 + 12345, envs: { local: {}, prod: {} } });
    expect(runningStackEnvs(dead)).toBeUndefined();
    expect(stackWebServer(['local'], dead)).toHaveProperty('wait');
    const onlyLocal = runtime({ version: 1, pid: process.pid, envs: { local: {} } });
    expect(stackWebServer(['local', 'prod'], onlyLocal)).toHaveProperty('wait');
  });
});
