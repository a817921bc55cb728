import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageConfig, renderPage } from '../portals/page.ts';
import { type PortalServer, startPortalServer } from '../portals/server.ts';
import type { PortalOverrides } from '../stack/faults/hooks.ts';

/** The portal server without a browser or a stack: what it serves, byte for byte. */

const BASE = {
  portal: 'client' as const,
  supabaseUrl: 'http://127.0.0.1:1',
  anonKey: 'anon.key.jwt',
  production: false,
};

describe('pageConfig', () => {
  it('is healthy without overrides: the session is forwarded, one subscription, no filter', () => {
    expect(pageConfig(BASE, {})).toEqual({
      portal: 'client',
      supabaseUrl: 'http://127.0.0.1:1',
      anonKey: 'anon.key.jwt',
      behaviour: { forwardSession: true, subscribeTwice: false },
      production: false,
    });
  });

  it('maps each override onto what the app is built with', () => {
    const overrides: PortalOverrides = {
      anonKey: 'stale.key.jwt',
      forwardSession: false,
      staleAccessToken: 'expired.user.jwt',
      filter: 'status=eq.__never__',
      subscribeTwice: true,
      csp: "connect-src 'self'",
    };
    expect(pageConfig(BASE, overrides)).toEqual({
      portal: 'client',
      supabaseUrl: 'http://127.0.0.1:1',
      anonKey: 'stale.key.jwt',
      behaviour: {
        forwardSession: false,
        staleAccessToken: 'expired.user.jwt',
        filter: 'status=eq.__never__',
        subscribeTwice: true,
      },
      production: false,
    });
  });
});

describe('renderPage', () => {
  it('injects the config as a JSON data block no value can break out of', () => {
    const config = pageConfig(BASE, { filter: 'title=eq.</script><script>alert(1)</script>' });
    const html = renderPage('<head><!--portal-config--></head>', config, '/assets/x/', '/vendor/s.js');
    expect(html).toBe(
      '<head><script id="portal-config" type="application/json">' +
        JSON.stringify(config).replace(/</g, '\\u003c') +
        '</script></head>',
    );
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    const json = /<script[^>]*>(.*)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json)).toEqual(config);
  });

  it('refuses a shell without the config slot, naming it', () => {
    expect(() => renderPage('<head></head>', pageConfig(BASE, {}), '/a/', '/v.js')).toThrow(
      'Portal shell lacks the <!--portal-config--> slot',
    );
  });
});

describe('startPortalServer', () => {
  let server: PortalServer;
  let overrides: PortalOverrides = {};
  let loads = 0;

  beforeAll(async () => {
    server = await startPortalServer({
      portal: 'agent',
      host: '127.0.0.1',
      port: 0,
      supabaseUrl: BASE.supabaseUrl,
      anonKey: BASE.anonKey,
      csp: "default-src 'self'",
      overrides: () => {
        loads++;
        return overrides;
      },
    });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('serves the app shell on every client-side route and reads the overrides on each load', async () => {
    for (const path of ['/', '/login', '/dashboard', '/unauthorized']) {
      const before = loads;
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await response.text()).toContain('<script id="portal-config" type="application/json">');
      expect(loads, `overrides read for ${path}`).toBe(before + 1);
    }
  });

  it('sends the healthy CSP, and the override instead when there is one', async () => {
    expect((await fetch(server.url)).headers.get('content-security-policy')).toBe("default-src 'self'");
    overrides = { csp: "default-src 'self'; connect-src 'self'" };
    try {
      expect((await fetch(server.url)).headers.get('content-security-policy')).toBe(
        "default-src 'self'; connect-src 'self'",
      );
    } finally {
      overrides = {};
    }
  });

  it('serves the supabase-js UMD build and the hashed app modules', async () => {
    const html = await (await fetch(`${server.url}/login`)).text();
    const vendor = /src="(\/vendor\/supabase\.js\?v=[^"]+)"/.exec(html)![1]!;
    const main = /src="(\/assets\/[0-9a-f]{12}\/main\.js)"/.exec(html)![1]!;
    const umd = await fetch(`${server.url}${vendor}`);
    expect(umd.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await umd.text()).startsWith('var supabase=')).toBe(true);
    const app = await fetch(`${server.url}${main}`);
    expect(app.status).toBe(200);
    expect(app.headers.get('cache-control')).toBe('no-cache');
    expect(await app.text()).toContain("import { readPortalConfig } from './config.js';");
  });

  it('answers unknown paths 404 and other methods 405, saying which', async () => {
    const missing = await fetch(`${server.url}/assets/000000000000/main.js`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('No page at /assets/000000000000/main.js on the agent portal\n');
    const post = await fetch(`${server.url}/login`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.text()).toBe('POST is not allowed on /login\n');
  });

  it('turns a failing overrides source into a 500 for that load, not a hang', async () => {
    const broken = await startPortalServer({
      portal: 'admin',
      host: '127.0.0.1',
      port: 0,
      supabaseUrl: BASE.supabaseUrl,
      anonKey: BASE.anonKey,
      overrides: () => {
        throw new Error('fault board unavailable');
      },
    });
    try {
      const response = await fetch(`${broken.url}/login`);
      expect(response.status).toBe(500);
      expect(await response.text()).toBe('The admin portal could not render this page\n');
    } finally {
      await broken.stop();
    }
  });
});
