-- The help-desk app's tables: tickets, their activity log and their attachments. Who may see a row is
-- decided by RLS (next migration); this file is only the shape, the realtime setup and the grants.

create table public.tickets (
  id uuid primary key default gen_random_uuid(),
  title text not null check (length(title) between 1 and 500),
  description text not null default '',
  status text not null default 'open' check (status in ('open', 'in_progress', 'resolved', 'closed')),
  priority text not null default 'normal' check (priority in ('low', 'normal', 'high', 'urgent')),
  -- Defaults to the caller so a signed-in client can open a ticket without naming itself; the
  -- service role (which has no auth.uid()) must name the creator.
  created_by uuid not null default auth.uid() references auth.users (id) on delete cascade,
  assigned_to uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.tickets is 'Help-desk tickets. Clients see their own, agents assigned-or-unassigned, admins all.';
create index tickets_created_by_idx on public.tickets (created_by);
create index tickets_assigned_to_idx on public.tickets (assigned_to);

create table public.ticket_activities (
  id uuid primary key default gen_random_uuid(),
  ticket_id uuid not null references public.tickets (id) on delete cascade,
  actor_id uuid default auth.uid() references auth.users (id) on delete set null,
  kind text not null check (kind in ('comment', 'status_change', 'assignment')),
  body text not null default '',
  created_at timestamptz not null default now()
);
comment on table public.ticket_activities is 'What happened to a ticket; visible to whoever can see the ticket.';
create index ticket_activities_ticket_id_idx on public.ticket_activities (ticket_id);

create table public.attachments (
  id uuid primary key default gen_random_uuid(),
  ticket_id uuid not null references public.tickets (id) on delete cascade,
  uploaded_by uuid default auth.uid() references auth.users (id) on delete set null,
  file_name text not null check (length(file_name) between 1 and 255),
  content_type text not null default 'application/octet-stream',
  size_bytes bigint not null check (size_bytes >= 0),
  -- Object path in a Storage bucket; the bytes live in Storage, not in Postgres.
  storage_path text not null,
  created_at timestamptz not null default now()
);
comment on table public.attachments is 'Files attached to a ticket; visible to whoever can see the ticket.';
create index attachments_ticket_id_idx on public.attachments (ticket_id);

-- Keep updated_at honest whatever client writes the row.
create function public.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
create trigger tickets_touch_updated_at before update on public.tickets
  for each row execute function public.touch_updated_at();

-- The API roles as Supabase grants them on public tables (the schema's default privileges do the
-- same; stated here so the migration does not depend on a project's defaults). RLS decides rows.
grant select, insert, update, delete on public.tickets, public.ticket_activities, public.attachments
  to anon, authenticated, service_role;

-- Realtime: UPDATE/DELETE events carry the whole old row, and the tables are published. Enabling
-- realtime is a separate step from creating a table; leaving it out is the classic prod-only bug.
alter table public.tickets replica identity full;
alter table public.ticket_activities replica identity full;
alter table public.attachments replica identity full;
alter publication supabase_realtime add table public.tickets, public.ticket_activities, public.attachments;
