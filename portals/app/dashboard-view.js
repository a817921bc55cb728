import { h } from './dom.js';
import { subscribeTickets } from './live-tickets.js';
import { TicketList } from './ticket-list.js';

const TICKET_COLUMNS = 'id,title,status,priority,created_by,assigned_to,created_at,updated_at';

/** The signed-in dashboard: who you are, the realtime status, and the tickets you may see, live. */
export function mountDashboard(root, { clients, model, behaviour, session, role, signOut, log }) {
  const list = new TicketList();
  const status = model.statusHandling
    ? h('span', { testid: 'realtime-status', className: 'status' }, 'CONNECTING')
    : undefined;
  const statusError = h('span', { testid: 'realtime-error', className: 'error' });
  const loadError = h('p', { testid: 'ticket-list-error', className: 'error', hidden: true });
  root.replaceChildren(
    h('p', { testid: 'signed-in-as', dataset: { userRole: role } }, `Signed in as ${session.user.email}`),
    h('button', { testid: 'sign-out', type: 'button', onClick: signOut }, 'Sign out'),
    status ? h('p', {}, 'Realtime: ', status, ' ', statusError) : undefined,
    h('h1', {}, 'Tickets'),
    loadError,
    list.element,
  );

  let left = false;
  let unsubscribe = () => {};
  subscribeTickets({
    clients,
    model,
    behaviour,
    session,
    log,
    onChange(change) {
      if (change.eventType === 'DELETE') list.remove(change.old?.id);
      else list.upsert(change.new);
    },
    onStatus(value, error) {
      if (!status) return;
      status.textContent = value;
      statusError.textContent = error?.message ?? '';
    },
  }).then(
    (stop) => {
      if (left) stop();
      else unsubscribe = stop;
    },
    (error) => {
      log('subscribing failed', error);
      if (status) status.textContent = 'CHANNEL_ERROR';
      statusError.textContent = error.message;
    },
  );

  clients.app
    .from('tickets')
    .select(TICKET_COLUMNS)
    .order('created_at', { ascending: false })
    .then(({ data, error }) => {
      if (error) {
        loadError.textContent = `Could not load tickets: ${error.message}`;
        loadError.hidden = false;
        return;
      }
      for (const ticket of data) list.upsert(ticket);
    });

  return () => {
    left = true;
    unsubscribe();
  };
}
