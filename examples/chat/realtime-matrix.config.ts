import type { Page } from '@playwright/test';
import { defineMatrix } from 'realtime-matrix';
import { CHAT_APP } from './stack-app.ts';

/**
 * A chat app of another shape than the help-desk, tested by values alone:
 * `RTM_CONFIG=examples/chat/realtime-matrix.config.ts npx playwright test`.
 * - `messages` has a bigint identity key and a `room_id`; members read the rooms they belong to
 *   (RLS by room membership), moderators read every room.
 * - `member` signs in through a labelled form at /sign-in (no test ids) and joins a channel per
 *   room with a `room_id=eq.1` filter, beside a presence and a broadcast channel.
 * - `moderator` has SSO only, so the matrix uses the `api` strategy and opens /queue.
 * - `live` is the member's page built the way Supabase now recommends: a trigger sends each message
 *   with `realtime.broadcast_changes` to the private topic `room:<room_id>`, and RLS on
 *   `realtime.messages` admits members of the room. Its cells prove a Broadcast arrives, not a
 *   postgres_changes event, for a message the member writes through REST (`writeAs: 'user'`).
 */
const ROOM = 1;

const messageShown = (page: Page, row: Record<string, unknown>) =>
  page
    .getByRole('list', { name: 'Messages' })
    .getByRole('listitem')
    .filter({ hasText: String(row['body']) });

export default defineMatrix({
  name: 'chat',
  table: {
    schema: 'public',
    name: 'messages',
    primaryKey: ['id'],
    tagColumn: 'body',
    createdAtColumn: 'created_at',
  },
  row: ({ user, portal, env, runTag, label }) => ({
    room_id: ROOM,
    body: `${runTag} ${portal}-${env} ${label}`,
    author_email: user.email,
  }),
  portals: {
    member: {
      urlKey: 'PORTAL_MEMBER_URL',
      user: {
        emailKey: 'USER_MEMBER_EMAIL',
        passwordVarKey: 'USER_MEMBER_PASSWORD_VAR',
        appMetadata: { chat_role: 'member' },
      },
      // Labels "Email address" and "Password", a "Log in" button: the ui strategy's defaults.
      signIn: { strategy: 'ui', path: '/sign-in' },
      signedIn: { url: /\/rooms\/\d+$/, locator: (page) => page.getByText(/^Signed in as /) },
      signedInAs: (page) => page.getByText(/^Signed in as /),
      shows: messageShown,
    },
    live: {
      urlKey: 'PORTAL_LIVE_URL',
      user: {
        emailKey: 'USER_LIVE_EMAIL',
        passwordVarKey: 'USER_LIVE_PASSWORD_VAR',
        appMetadata: { chat_role: 'member' },
      },
      signIn: { strategy: 'ui', path: '/sign-in' },
      signedIn: { url: /\/rooms\/\d+$/, locator: (page) => page.getByText(/^Signed in as /) },
      signedInAs: (page) => page.getByText(/^Signed in as /),
      // The live page's rows go in as its user through REST, as a member posts: the trigger must
      // broadcast for a member's write too (security definer), not only for the service role's.
      writeAs: 'user',
      changes: {
        kind: 'broadcast',
        // The topic the messages trigger computes: 'room:' || room_id.
        topic: ({ row }) => `room:${row['room_id']}`,
        // broadcast_changes names each message after its operation (INSERT, UPDATE, DELETE).
        private: true,
      },
      // A member edits and deletes their own messages: each change must reach the room too.
      operations: ['INSERT', 'UPDATE', 'DELETE'],
      shows: messageShown,
    },
    moderator: {
      urlKey: 'PORTAL_MODERATOR_URL',
      user: {
        emailKey: 'USER_MODERATOR_EMAIL',
        passwordVarKey: 'USER_MODERATOR_PASSWORD_VAR',
        appMetadata: { chat_role: 'moderator' },
      },
      signIn: { strategy: 'api', path: '/queue' },
      signedIn: {
        url: /\/queue$/,
        locator: (page) => page.getByRole('heading', { name: 'Moderation queue' }),
      },
      signedInAs: (page) => page.getByText(/^Signed in as /),
      rejected: {
        url: /\/not-allowed$/,
        locator: (page) => page.getByRole('heading', { name: 'Not allowed' }),
      },
      requiredClaims: { 'app_metadata.chat_role': 'moderator' },
      // The queue follows edits and deletions too (postgres_changes event '*').
      operations: ['INSERT', 'UPDATE', 'DELETE'],
      shows: messageShown,
    },
  },
  embedded: CHAT_APP,
});
