/**
 * What differs between the three portals, as the seeds' apps have it. Everything else is shared.
 * - role: the `user_role` claim a user needs to use this portal.
 * - channel: the realtime channel name the portal subscribes on.
 * - statusHandling: whether the portal passes a status callback to subscribe() and shows it.
 * - waitForUser: whether the portal confirms the user with the server (auth.getUser) first.
 */
export const PORTAL_MODELS = Object.freeze({
  client: Object.freeze({
    role: 'client',
    title: 'Help desk · Customer portal',
    channel: 'public:tickets',
    statusHandling: true,
    waitForUser: false,
  }),
  agent: Object.freeze({
    role: 'agent',
    title: 'Help desk · Agent console',
    channel: 'public:tickets',
    statusHandling: true,
    waitForUser: true,
  }),
  admin: Object.freeze({
    role: 'admin',
    title: 'Help desk · Administration',
    channel: 'tickets-changes',
    statusHandling: false,
    waitForUser: false,
  }),
});

export function portalModel(portal) {
  const model = PORTAL_MODELS[portal];
  if (!model)
    throw new Error(`Unknown portal "${portal}"; expected one of ${Object.keys(PORTAL_MODELS).join(', ')}`);
  return model;
}
