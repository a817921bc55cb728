import { sessionRole } from './claims.js';
import { readPortalConfig } from './config.js';
import { mountDashboard } from './dashboard-view.js';
import { mountLogin } from './login-view.js';
import { portalModel } from './portal-models.js';
import { mountUnauthorized } from './unauthorized-view.js';

const config = readPortalConfig();
const model = portalModel(config.portal);
const log = config.production ? () => {} : (...args) => console.debug(`[${config.portal} portal]`, ...args);
const { createClient } = window.supabase;
document.title = model.title;
document.getElementById('portal-title').textContent = model.title;

// The app's client: default auth, so the session persists in localStorage across reloads.
const app = createClient(config.supabaseUrl, config.anonKey);
const clients = {
  app,
  // session-not-forwarded: realtime on a client made at startup, before any sign-in, with auth of
  // its own that never sees the session (supabase-js#1733). Healthy: the app's own client.
  realtime: config.behaviour.forwardSession
    ? app
    : createClient(config.supabaseUrl, config.anonKey, {
        auth: {
          persistSession: false,
          autoRefreshToken: false,
          detectSessionInUrl: false,
          storageKey: `sb-${config.portal}-realtime`,
        },
      }),
  // duplicate-subscription: what a re-render that builds its own client gets (same session storage).
  makeExtra: () => createClient(config.supabaseUrl, config.anonKey),
};

const root = document.getElementById('app');
let leaveView = () => {};
let generation = 0;

function navigate(path) {
  if (location.pathname !== path) history.pushState(null, '', path);
  return render();
}
window.addEventListener('popstate', () => void render());

async function render() {
  const current = ++generation;
  leaveView();
  leaveView = () => {};
  const { data, error } = await app.auth.getSession();
  if (current !== generation) return;
  const session = data.session;
  if (error || !session) {
    if (error) log('no session', error.message);
    if (location.pathname !== '/login') history.replaceState(null, '', '/login');
    leaveView = mountLogin(root, { model, signIn });
    return;
  }
  const role = sessionRole(session);
  if (role !== model.role) {
    if (location.pathname !== '/unauthorized') history.replaceState(null, '', '/unauthorized');
    leaveView = mountUnauthorized(root, { model, email: session.user?.email, role, signOut });
    return;
  }
  if (location.pathname !== '/dashboard') history.replaceState(null, '', '/dashboard');
  leaveView = mountDashboard(root, {
    clients,
    model,
    behaviour: config.behaviour,
    session,
    role,
    signOut,
    log,
  });
}

async function signIn(email, password) {
  const { error } = await app.auth.signInWithPassword({ email, password });
  if (error) return error.message;
  await navigate('/dashboard');
  return null;
}

async function signOut() {
  const { error } = await app.auth.signOut();
  if (error) log('sign-out failed', error.message);
  await navigate('/login');
}

await render();
