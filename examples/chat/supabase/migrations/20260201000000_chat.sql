-- The chat example: rooms, who belongs to which, and the messages realtime streams.
create table public.rooms (
  id bigint generated always as identity primary key,
  name text not null
);

create table public.room_members (
  room_id bigint not null references public.rooms (id) on delete cascade,
  member_email text not null,
  primary key (room_id, member_email)
);

create table public.messages (
  id bigint generated always as identity primary key,
  room_id bigint not null references public.rooms (id) on delete cascade,
  body text not null,
  author_email text,
  created_at timestamptz not null default now()
);
create index messages_room_id_idx on public.messages (room_id);

alter table public.rooms enable row level security;
alter table public.room_members enable row level security;
alter table public.messages enable row level security;

-- As a Supabase project grants them; RLS decides what each role really sees.
grant usage on schema public to anon, authenticated, service_role;
grant all on public.rooms, public.room_members, public.messages to anon, authenticated, service_role;
grant usage, select on all sequences in schema public to anon, authenticated, service_role;

create policy "members see their rooms" on public.rooms for select to authenticated
  using (
    exists (select 1 from public.room_members m
             where m.room_id = rooms.id and m.member_email = (select auth.jwt() ->> 'email'))
    or (select auth.jwt() -> 'app_metadata' ->> 'chat_role') = 'moderator'
  );

create policy "members see their memberships" on public.room_members for select to authenticated
  using (
    member_email = (select auth.jwt() ->> 'email')
    or (select auth.jwt() -> 'app_metadata' ->> 'chat_role') = 'moderator'
  );

create policy "members read their rooms' messages" on public.messages for select to authenticated
  using (
    exists (select 1 from public.room_members m
             where m.room_id = messages.room_id and m.member_email = (select auth.jwt() ->> 'email'))
  );

create policy "moderators read every message" on public.messages for select to authenticated
  using ((select auth.jwt() -> 'app_metadata' ->> 'chat_role') = 'moderator');

create policy "members post in their rooms" on public.messages for insert to authenticated
  with check (
    author_email = (select auth.jwt() ->> 'email')
    and exists (select 1 from public.room_members m
                 where m.room_id = messages.room_id and m.member_email = (select auth.jwt() ->> 'email'))
  );

alter publication supabase_realtime add table public.messages;
