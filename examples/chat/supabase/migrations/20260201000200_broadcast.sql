-- The chat's second way to go live, the one Supabase recommends: Broadcast from Database. A trigger
-- sends every change of a message to the private topic `room:<room_id>`, and RLS on realtime.messages
-- lets a member hear the rooms they belong to. The `live` portal listens this way; `member` and
-- `moderator` keep postgres_changes, so the example covers both kinds.

-- security definer: the trigger also fires for messages members post through REST, and a member has
-- no INSERT policy on realtime.messages (only the function's owner may write there for them).
create function public.broadcast_message_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform realtime.broadcast_changes(
    'room:' || coalesce(new.room_id, old.room_id)::text,
    tg_op,
    tg_op,
    tg_table_name,
    tg_table_schema,
    new,
    old
  );
  return null;
end;
$$;

create trigger messages_broadcast
  after insert or update or delete on public.messages
  for each row execute function public.broadcast_message_change();

-- Joining `room:<id>` privately runs this as the member's role with the member's claims, the topic
-- in realtime.topic(): a member hears exactly the rooms they belong to.
create policy "members hear their rooms" on realtime.messages for select to authenticated
  using (
    exists (select 1 from public.room_members m
             where m.member_email = (select auth.jwt() ->> 'email')
               and 'room:' || m.room_id::text = (select realtime.topic()))
  );

-- The live portal's user belongs to room 1, as the member does.
insert into public.room_members (room_id, member_email) values (1, 'live@chat.test');
