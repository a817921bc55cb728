-- Row level security per help-desk role. The role is the `user_role` claim the custom access token
-- hook puts in the JWT (next migration), read with auth.jwt(); `(select …)` lets Postgres evaluate
-- the claim once per statement instead of once per row (Supabase's RLS performance advice).
-- anon has no policy at all: a socket or request that never got the user's JWT sees nothing.

alter table public.tickets enable row level security;
alter table public.ticket_activities enable row level security;
alter table public.attachments enable row level security;

-- tickets: read ---------------------------------------------------------------------------------
create policy "tickets: clients read their own" on public.tickets
  for select to authenticated
  using ((select auth.jwt() ->> 'user_role') = 'client' and created_by = (select auth.uid()));

create policy "tickets: agents read assigned or unassigned" on public.tickets
  for select to authenticated
  using (
    (select auth.jwt() ->> 'user_role') = 'agent'
    and (assigned_to = (select auth.uid()) or assigned_to is null)
  );

create policy "tickets: admins read all" on public.tickets
  for select to authenticated
  using ((select auth.jwt() ->> 'user_role') = 'admin');

-- tickets: write --------------------------------------------------------------------------------
create policy "tickets: clients open their own, unassigned" on public.tickets
  for insert to authenticated
  with check (
    (select auth.jwt() ->> 'user_role') = 'client'
    and created_by = (select auth.uid())
    and assigned_to is null
  );

create policy "tickets: clients edit their own" on public.tickets
  for update to authenticated
  using ((select auth.jwt() ->> 'user_role') = 'client' and created_by = (select auth.uid()))
  with check ((select auth.jwt() ->> 'user_role') = 'client' and created_by = (select auth.uid()));

-- An agent may take an unassigned ticket or work on (or release) its own, never hand it to someone else.
create policy "tickets: agents work assigned or unassigned" on public.tickets
  for update to authenticated
  using (
    (select auth.jwt() ->> 'user_role') = 'agent'
    and (assigned_to = (select auth.uid()) or assigned_to is null)
  )
  with check (
    (select auth.jwt() ->> 'user_role') = 'agent'
    and (assigned_to = (select auth.uid()) or assigned_to is null)
  );

-- One policy per command (not `for all`), so each role's SELECT policy stands alone and can be
-- reasoned about (and changed) without touching writes.
create policy "tickets: admins open any" on public.tickets
  for insert to authenticated
  with check ((select auth.jwt() ->> 'user_role') = 'admin');

create policy "tickets: admins edit any" on public.tickets
  for update to authenticated
  using ((select auth.jwt() ->> 'user_role') = 'admin')
  with check ((select auth.jwt() ->> 'user_role') = 'admin');

create policy "tickets: admins delete any" on public.tickets
  for delete to authenticated
  using ((select auth.jwt() ->> 'user_role') = 'admin');

-- activities and attachments: visible with their ticket ----------------------------------------
-- The subquery on tickets runs under the caller's tickets policies, so "can see the ticket" is
-- defined once, above.
create policy "ticket_activities: read with the ticket" on public.ticket_activities
  for select to authenticated
  using (exists (select 1 from public.tickets t where t.id = ticket_id));

create policy "ticket_activities: write as yourself on a visible ticket" on public.ticket_activities
  for insert to authenticated
  with check (
    actor_id = (select auth.uid())
    and exists (select 1 from public.tickets t where t.id = ticket_id)
  );

create policy "attachments: read with the ticket" on public.attachments
  for select to authenticated
  using (exists (select 1 from public.tickets t where t.id = ticket_id));

create policy "attachments: upload as yourself on a visible ticket" on public.attachments
  for insert to authenticated
  with check (
    uploaded_by = (select auth.uid())
    and exists (select 1 from public.tickets t where t.id = ticket_id)
  );

create policy "attachments: uploaders and admins delete" on public.attachments
  for delete to authenticated
  using (
    uploaded_by = (select auth.uid())
    or (select auth.jwt() ->> 'user_role') = 'admin'
  );
