import { describe, expect, it } from 'vitest';
import type { StackApp } from '../stack/app.ts';
import { FaultBoard } from '../stack/faults/board.ts';
import { FaultController, FaultRequestError } from '../stack/faults/controller.ts';
import type { Deployment } from '../stack/topology/deployment.ts';

/**
 * A portal the team serves itself (`url` only) has nothing of the stack's in front of it: the faults
 * that act through the served page, its headers or its process are refused for its cells, named,
 * with the cells they can act on, instead of switching on and changing nothing.
 */
const app: StackApp = {
  name: 'team-app',
  supabaseDir: '/nowhere',
  table: { schema: 'public', name: 'notes' },
  portals: [
    { name: 'web', localPort: 0, serve: () => Promise.reject(new Error('not in this test')) },
    {
      name: 'ops',
      localPort: 0,
      url: 'http://localhost:4173',
      serve: () => Promise.reject(new Error('never served')),
    },
  ],
};
const deployment = {
  supabaseUrl: 'http://127.0.0.1:54321',
  portals: { portals: {} },
} as unknown as Deployment;
const controller = () => new FaultController(app, new Map([['local', deployment]]), new FaultBoard());

describe('faults on a portal the team serves', () => {
  for (const fault of ['csp-blocks-socket', 'bad-apikey', 'portal-down']) {
    it(`${fault} on ops-local is refused with the portal's URL and the cells it can act on`, async () => {
      const error = await controller()
        .set('ops-local', fault, true)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(FaultRequestError);
      expect((error as FaultRequestError).code).toBe('not_available');
      expect((error as Error).message).toBe(
        `${fault} acts on what the stack serves for the ops portal, but the team serves it itself at http://localhost:4173: nothing of the stack's is in front of it, so the fault could not act. Valid: web-local.`,
      );
    });
  }

  it('the same fault on a portal the stack serves is switched on', async () => {
    const c = controller();
    await expect(c.set('web-local', 'csp-blocks-socket', true)).resolves.toMatchObject({
      target: 'web-local',
      fault: 'csp-blocks-socket',
    });
    expect(c.list().map((f) => f.target)).toEqual(['web-local']);
  });
});
