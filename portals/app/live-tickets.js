/**
 * The dashboard's realtime subscription to public.tickets, as the portal's model prescribes and as
 * the deployment's behaviour really is. Healthy: the session's token is handed to realtime with
 * `realtime.setAuth` before subscribing (Supabase's advice), one channel, no filter. The other
 * behaviours are the real bugs of shared/FAILURES.md, done the way real apps do them.
 */
export async function subscribeTickets({ clients, model, behaviour, session, onChange, onStatus, log }) {
  if (model.waitForUser) {
    // The agent console confirms the user with the server before it subscribes.
    const { error } = await clients.app.auth.getUser();
    if (error) {
      onStatus(
        'CHANNEL_ERROR',
        new Error(`Could not confirm the signed-in user: ${error.message}`, { cause: error }),
      );
      return () => {};
    }
  }

  const binding = { event: '*', schema: 'public', table: 'tickets' };
  if (behaviour.filter) binding.filter = behaviour.filter;

  // duplicate-subscription: the effect runs twice on mount (a double render, StrictMode) and the
  // second run builds its own client and subscribes again; nothing removes the first.
  const subscriptions = await Promise.all([
    subscribeOnce(clients.realtime),
    ...(behaviour.subscribeTwice ? [subscribeOnce(clients.makeExtra())] : []),
  ]);
  return () => {
    for (const { client, channel } of subscriptions) void client.removeChannel(channel);
  };

  async function subscribeOnce(client) {
    if (behaviour.staleAccessToken) {
      // The app hands realtime a token it cached earlier instead of its session's.
      await client.realtime.setAuth(behaviour.staleAccessToken);
    } else if (client !== clients.realtime || behaviour.forwardSession) {
      await client.realtime.setAuth(session.access_token);
    }
    // else: session-not-forwarded. This client was made before sign-in and never got the session.
    const channel = client.channel(model.channel).on('postgres_changes', binding, (change) => {
      log('postgres_changes', change.eventType, change.new?.id ?? change.old?.id);
      onChange(change);
    });
    if (model.statusHandling) {
      channel.subscribe((status, error) => {
        log('realtime status', status, error?.message ?? '');
        onStatus(status, error);
      });
    } else {
      channel.subscribe();
    }
    return { client, channel };
  }
}
