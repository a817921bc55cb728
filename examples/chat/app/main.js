import { h, messageList, show } from './dom.js';

// The deployment's config travels as a JSON data block: never executed, so no CSP can block it.
const config = JSON.parse(document.getElementById('chat-config').textContent);
// supabase-js keeps the session under its own key (sb-<first label of the URL's host>-auth-token).
const supabase = window.supabase.createClient(config.supabaseUrl, config.anonKey);
const debug = (...args) => config.production || console.debug('[chat]', ...args);

function go(path) {
  window.location.assign(path);
}

function signedInAs(email) {
  return h('p', {}, `Signed in as ${email}`);
}

/** Realtime must join as the user, not with the anon key: hand it the session's token first. */
async function realtimeAs(session) {
  await supabase.realtime.setAuth(session.access_token);
}

// ── member ───────────────────────────────────────────────────────────────────────────────────────

function signInPage() {
  const alert = h('p', { role: 'alert' });
  const email = h('input', {
    id: 'email',
    type: 'email',
    name: 'email',
    autocomplete: 'username',
    required: true,
  });
  const password = h('input', {
    id: 'password',
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const button = h('button', { type: 'submit' }, 'Log in');
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        alert.textContent = '';
        button.disabled = true;
        const { error } = await supabase.auth.signInWithPassword({
          email: email.value,
          password: password.value,
        });
        button.disabled = false;
        if (error) alert.textContent = `Could not log in: ${error.message}`;
        else go('/rooms/1');
      },
    },
    h('label', { for: 'email' }, 'Email address'),
    email,
    h('label', { for: 'password' }, 'Password'),
    password,
    button,
  );
  show(h('h1', {}, 'Chat'), form, alert);
}

async function roomPage(roomId) {
  const {
    data: { session },
  } = await supabase.auth.getSession();
  if (!session) return go('/sign-in');
  const email = session.user.email;
  const heading = h('h1', {}, `Room ${roomId}`);
  const messages = messageList();
  const status = h('p', { role: 'status' }, 'Connecting…');
  show(heading, signedInAs(email), status, messages.element);

  const room = await supabase.from('rooms').select('name').eq('id', roomId).maybeSingle();
  if (room.data) heading.textContent = room.data.name;
  const history = await supabase
    .from('messages')
    .select('id, body')
    .eq('room_id', roomId)
    .order('id', { ascending: true });
  for (const m of history.data ?? []) messages.add(m);

  const { joinBeforeSession, privateChannel } = config.behaviour;
  // broadcast-anon-join: realtime on a client that has no session yet, handed it only after the
  // first join failed — so that join goes out with the anon key. Healthy: the app's own client,
  // given the session before subscribing.
  const realtime = joinBeforeSession
    ? window.supabase.createClient(config.supabaseUrl, config.anonKey, {
        auth: { persistSession: false, autoRefreshToken: false, storageKey: `sb-${config.portal}-realtime` },
      })
    : supabase;
  if (!joinBeforeSession) await realtimeAs(session);
  const channel =
    config.portal === 'live'
      ? // Broadcast from Database: the messages trigger sends each change to the private topic
        // room:<id>; realtime.messages RLS lets members of the room hear it.
        realtime
          .channel(`room:${roomId}`, { config: { private: privateChannel } })
          .on('broadcast', { event: 'INSERT' }, (message) => messages.add(message.payload.record))
          .on('broadcast', { event: 'UPDATE' }, (message) => messages.update(message.payload.record))
          .on('broadcast', { event: 'DELETE' }, (message) => messages.remove(message.payload.old_record))
      : realtime
          .channel(`room:${roomId}`)
          .on(
            'postgres_changes',
            { event: 'INSERT', schema: 'public', table: 'messages', filter: `room_id=eq.${roomId}` },
            (payload) => messages.add(payload.new),
          );
  let handedSession = !joinBeforeSession;
  channel.subscribe((state, error) => {
    if (state === 'CHANNEL_ERROR' && !handedSession) {
      handedSession = true;
      void realtime.realtime.setAuth(session.access_token);
    }
    status.textContent =
      state === 'SUBSCRIBED' ? 'Live' : `Realtime: ${state}${error ? ` (${error.message})` : ''}`;
    debug('room channel', state, error);
  });
  const online = supabase.channel('online', { config: { presence: { key: email } } });
  online.subscribe(async (state) => {
    if (state === 'SUBSCRIBED') await online.track({ email, online_at: new Date().toISOString() });
  });
  supabase
    .channel(`typing:${roomId}`)
    .on('broadcast', { event: 'typing' }, (message) => debug('typing', message.payload))
    .subscribe();
}

// ── moderator ────────────────────────────────────────────────────────────────────────────────────

function ssoPage() {
  const alert = h('p', { role: 'alert' });
  show(
    h('h1', {}, 'Chat moderation'),
    h(
      'button',
      {
        type: 'button',
        onclick: () => {
          // The identity provider is on the company network only; nothing here can reach it.
          alert.textContent = 'Single sign-on is not reachable from this network.';
        },
      },
      'Continue with SSO',
    ),
    alert,
  );
}

async function queuePage() {
  const {
    data: { session },
  } = await supabase.auth.getSession();
  if (!session) return go('/');
  if (session.user.app_metadata?.chat_role !== 'moderator') return go('/not-allowed');
  const messages = messageList();
  const status = h('p', { role: 'status' }, 'Connecting…');
  show(h('h1', {}, 'Moderation queue'), signedInAs(session.user.email), status, messages.element);
  const history = await supabase
    .from('messages')
    .select('id, body')
    .order('id', { ascending: true })
    .limit(200);
  for (const m of history.data ?? []) messages.add(m);
  await realtimeAs(session);
  supabase
    .channel('moderation')
    // The queue follows every change: new messages, edits and deletions.
    .on('postgres_changes', { event: '*', schema: 'public', table: 'messages' }, (payload) => {
      if (payload.eventType === 'INSERT') messages.add(payload.new);
      else if (payload.eventType === 'UPDATE') messages.update(payload.new);
      else messages.remove(payload.old);
    })
    .subscribe((state, error) => {
      status.textContent =
        state === 'SUBSCRIBED' ? 'Live' : `Realtime: ${state}${error ? ` (${error.message})` : ''}`;
    });
}

function notAllowedPage() {
  show(h('h1', {}, 'Not allowed'), h('p', {}, 'This account is not a moderator.'));
}

// ── routes ───────────────────────────────────────────────────────────────────────────────────────

const path = window.location.pathname;
if (config.portal === 'member' || config.portal === 'live') {
  const room = /^\/rooms\/(\d+)$/.exec(path);
  if (room) await roomPage(Number(room[1]));
  else if (path === '/sign-in') signInPage();
  else go('/sign-in');
} else if (path === '/queue') await queuePage();
else if (path === '/not-allowed') notAllowedPage();
else ssoPage();
