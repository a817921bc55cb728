import { fileURLToPath } from 'node:url';
import type { PortalServeOptions, ServedPortal, StackApp } from '../../stack/app.ts';

/**
 * Imported only when a portal starts, so the matrix config that names this app stays light (it is
 * loaded by Playwright's config process and every worker).
 */
async function serve(options: PortalServeOptions): Promise<ServedPortal> {
  const { startChatServer } = await import('./server.ts');
  return startChatServer(options);
}

/**
 * The chat example as the embedded stack deploys it: its own supabase/ (rooms, memberships,
 * messages; reference data in a migration, since prod applies migrations only), no access token hook,
 * and three portals from one codebase. No seed.sql users: the stack makes both users through the admin
 * API in every env, with the app_metadata the RLS policies read.
 */
export const CHAT_APP: StackApp = {
  name: 'chat',
  supabaseDir: fileURLToPath(new URL('./supabase', import.meta.url)),
  table: { schema: 'public', name: 'messages' },
  // The live portal's page honours these overrides (broadcast-anon-join, broadcast-not-private).
  mechanisms: ['join-before-session', 'private-channel'],
  portals: [
    {
      name: 'member',
      localPort: 3100,
      seedEmail: 'member@chat.test',
      seedAppMetadata: { chat_role: 'member' },
      serve,
    },
    {
      name: 'live',
      localPort: 3102,
      seedEmail: 'live@chat.test',
      seedAppMetadata: { chat_role: 'member' },
      serve,
    },
    {
      name: 'moderator',
      localPort: 3101,
      seedEmail: 'moderator@chat.test',
      seedAppMetadata: { chat_role: 'moderator' },
      serve,
    },
  ],
};
