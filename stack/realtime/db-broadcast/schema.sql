-- Broadcast from Database and Realtime Authorization: the realtime schema objects a hosted project
-- has (PROTOCOL-BROADCAST.md §1), so an app's migrations can write `realtime.messages` policies and
-- triggers that call `realtime.broadcast_changes()`, and its portals can join private channels.
-- Applied at bootstrap, before the app's migrations; idempotent, so a persisted database boots again.
--
-- One knowing difference: hosted partitions `realtime.messages` by day (created when the tenant
-- connects, dropped after 3 days). Here it is one plain table: no "no partition … found for row"
-- failure to emulate, and the stack's databases are short-lived. Columns, defaults, constraint,
-- grants, RLS and functions are hosted's.

create schema if not exists realtime;

create table if not exists realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp without time zone not null default now(),
  inserted_at timestamp without time zone not null default now(),
  id uuid not null default gen_random_uuid(),
  binary_payload bytea,
  constraint messages_pkey primary key (id, inserted_at)
);

do $$
begin
  if not exists (select 1 from pg_constraint where conname = 'messages_payload_exclusive'
                 and conrelid = 'realtime.messages'::regclass) then
    alter table realtime.messages add constraint messages_payload_exclusive
      check ((payload is null) or (binary_payload is null)) not valid;
  end if;
end
$$;

create index if not exists messages_inserted_at_topic_index on realtime.messages (inserted_at desc, topic)
  where extension = 'broadcast' and private is true;

-- RLS on (not forced): no policies are created; the project owner writes them. The table belongs to
-- supabase_realtime_admin, so `postgres` (and service_role) pass by BYPASSRLS, as on hosted.
alter table realtime.messages enable row level security;
alter table realtime.messages owner to supabase_realtime_admin;
grant insert, select, update on realtime.messages to postgres, anon, authenticated, service_role;

-- The channel sub-topic (`room:1`, without `realtime:`) inside an authorization check or a send;
-- NULL everywhere else.
create or replace function realtime.topic() returns text
language sql stable
as $$ select nullif(pg_catalog.current_setting('realtime.topic', true), '')::text $$;

-- Insert one broadcast message for the replication stream to deliver, as the calling role (security
-- invoker: an anon/authenticated caller needs an INSERT policy). `realtime.topic` is set first so a
-- policy can read it. Every failure is a WARNING and nothing is sent: the caller's statement succeeds.
create or replace function realtime.send(payload jsonb, event text, topic text, private boolean default true)
returns void
language plpgsql
as $$
declare
  message_id uuid := gen_random_uuid();
  body jsonb;
begin
  begin
    body := case when payload ? 'id' then payload
                 else jsonb_set(payload, '{id}', to_jsonb(message_id)) end;
    execute format('set local realtime.topic to %L', topic);
    insert into realtime.messages (id, payload, event, topic, private, extension)
      values (message_id, body, event, topic, private, 'broadcast');
  exception when others then
    raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end;
$$;

create or replace function realtime.send_binary(payload bytea, event text, topic text, private boolean default true)
returns void
language plpgsql
as $$
begin
  begin
    execute format('set local realtime.topic to %L', topic);
    insert into realtime.messages (binary_payload, event, topic, private, extension)
      values (payload, event, topic, private, 'broadcast');
  exception when others then
    raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end;
$$;

-- For row triggers: the old and new rows as JSON, always on the private topic. Misuse (a statement
-- trigger, an unknown operation) aborts the caller's statement, unlike a failed send.
create or replace function realtime.broadcast_changes(
  topic_name text,
  event_name text,
  operation text,
  table_name text,
  table_schema text,
  new record,
  old record,
  level text default 'ROW'
) returns void
language plpgsql
as $$
declare
  row_data jsonb;
begin
  begin
    if level = 'STATEMENT' then
      raise exception 'function can only be triggered for each row, not for each statement';
    end if;
    if operation not in ('INSERT', 'UPDATE', 'DELETE') then
      raise exception 'Unexpected operation type: %', operation;
    end if;
    row_data := jsonb_build_object('old_record', old, 'record', new, 'operation', operation,
                                   'table', table_name, 'schema', table_schema);
    perform realtime.send(row_data, event_name, topic_name);
  exception when others then
    raise exception 'Failed to process the row: %', sqlerrm;
  end;
end;
$$;

alter function realtime.topic() owner to supabase_realtime_admin;
alter function realtime.send(jsonb, text, text, boolean) owner to supabase_realtime_admin;
alter function realtime.send_binary(bytea, text, text, boolean) owner to supabase_realtime_admin;
alter function realtime.broadcast_changes(text, text, text, text, text, record, record, text)
  owner to supabase_realtime_admin;
grant execute on function realtime.topic(), realtime.send(jsonb, text, text, boolean),
  realtime.send_binary(bytea, text, text, boolean),
  realtime.broadcast_changes(text, text, text, text, text, record, record, text)
  to postgres, anon, authenticated, service_role;

-- What the realtime server streams (never `supabase_realtime`, which is for postgres_changes).
do $$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime_messages_publication') then
    create publication supabase_realtime_messages_publication for table realtime.messages;
  end if;
end
$$;
