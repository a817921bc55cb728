-- realtime-matrix doctor RPC: the facts `npm run doctor` and failing matrix cells read about the table
-- realtime streams (publication, grants, RLS policies, replica identity, primary key, one row), for
-- projects the matrix has no connection string for (no <ENV>_DATABASE_URL in its environment).
--
-- Install: copy this file into supabase/migrations/ with a timestamp prefix (e.g.
-- supabase/migrations/20260201000000_realtime_matrix_doctor.sql) and `supabase db push`, or paste it
-- into the SQL editor. Remove it with
--   drop function public.realtime_matrix_doctor(text, text, text, jsonb, jsonb, text, text);
--   drop function public.realtime_matrix_doctor_broadcast(text, text, text, jsonb, text, text[], boolean, text, jsonb);
--
-- Two functions: realtime_matrix_doctor (postgres_changes: the table's facts) and
-- realtime_matrix_doctor_broadcast (Broadcast from Database: the table's triggers and the app's SQL
-- functions they may call, the policies on realtime.messages, and the join's read and lazy write
-- checks for a topic evaluated from those policies' expressions). Firing the trigger for a row,
-- which the direct connection does in a rolled-back transaction, is not done here: read-only.
--
-- Safety: read-only (it only selects; request.jwt.* settings it changes are transaction-local and
-- restored), `security definer` so it can read the catalog and the row whatever RLS says, callable
-- by service_role only: EXECUTE is revoked from public, anon and authenticated. It answers catalog
-- facts and the one row named by its primary key, which the service role can read anyway.
--
-- Row visibility: Postgres forbids SET ROLE inside a security definer function, so instead of
-- selecting as the subscriber's role (what a direct connection does), it evaluates the USING
-- expressions of the SELECT policies that apply to that role under the subscriber's claims
-- (permissive ones OR-ed, restrictive ones AND-ed), which is what RLS computes for that role.

create or replace function public.realtime_matrix_doctor(
  p_schema text,
  p_table text,
  p_role text,
  p_claims jsonb,
  p_row jsonb default null,
  p_row_id text default null,
  p_publication text default 'supabase_realtime'
) returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_schema_exists boolean := exists(select 1 from pg_catalog.pg_namespace where nspname = p_schema);
  v_role_exists boolean := exists(select 1 from pg_catalog.pg_roles where rolname = p_role);
  v_oid oid;
  v_class record;
  v_table jsonb := null;
  v_columns jsonb := '[]';
  v_pk text[] := '{}';
  v_replident_index text[];
  v_selectable text[] := '{}';
  v_schema_usage boolean := null;
  v_table_select boolean := null;
  v_publication jsonb := null;
  v_member jsonb := null;
  v_row_filter text;
  v_policies jsonb := '[]';
  v_row jsonb := null;
  v_key jsonb := '{}';
  v_where text;
  v_values jsonb;
  v_filter_passes boolean;
  v_visible boolean;
  v_error text := null;
  v_permissive text;
  v_restrictive text;
  v_old_claims text := pg_catalog.current_setting('request.jwt.claims', true);
  v_old_sub text := pg_catalog.current_setting('request.jwt.claim.sub', true);
  v_old_role text := pg_catalog.current_setting('request.jwt.claim.role', true);
  c text;
begin
  select c2.oid, c2.relkind::text as kind, c2.relrowsecurity as rls, c2.relforcerowsecurity as force_rls,
         c2.relreplident::text as replident
    into v_class
    from pg_catalog.pg_class c2 join pg_catalog.pg_namespace n on n.oid = c2.relnamespace
   where n.nspname = p_schema and c2.relname = p_table;
  v_oid := v_class.oid;

  if v_role_exists and v_schema_exists then
    v_schema_usage := pg_catalog.has_schema_privilege(p_role, p_schema, 'USAGE');
  end if;

  if v_oid is not null then
    select coalesce(jsonb_agg(jsonb_build_object('name', a.attname, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod)) order by a.attnum), '[]'),
           coalesce(array_agg(a.attname::text order by a.attnum) filter (
             where v_role_exists and pg_catalog.has_column_privilege(p_role, a.attrelid, a.attnum, 'SELECT')), '{}')
      into v_columns, v_selectable
      from pg_catalog.pg_attribute a
     where a.attrelid = v_oid and a.attnum > 0 and not a.attisdropped;
    select coalesce(array(select a.attname::text from unnest(i.indkey) with ordinality k(attnum, ord)
                            join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                           order by k.ord), '{}')
      into v_pk from pg_catalog.pg_index i where i.indrelid = v_oid and i.indisprimary;
    v_pk := coalesce(v_pk, '{}');
    select array(select a.attname::text from unnest(i.indkey) with ordinality k(attnum, ord)
                   join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                  order by k.ord)
      into v_replident_index from pg_catalog.pg_index i where i.indrelid = v_oid and i.indisreplident;
    if v_role_exists then
      v_table_select := pg_catalog.has_table_privilege(p_role, v_oid, 'SELECT');
    end if;
    v_table := jsonb_build_object(
      'kind', v_class.kind, 'rls', v_class.rls, 'forceRls', v_class.force_rls,
      'replicaIdentity', v_class.replident, 'replicaIdentityIndex', to_jsonb(v_replident_index),
      'columns', v_columns, 'primaryKey', to_jsonb(v_pk));
    select coalesce(jsonb_agg(jsonb_build_object(
             'name', p.polname,
             'permissive', p.polpermissive,
             'cmd', case p.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE'
                                  when 'd' then 'DELETE' else 'ALL' end,
             'roles', to_jsonb(array(select case when r = 0 then 'public' else pg_catalog.pg_get_userbyid(r)::text end
                                       from unnest(p.polroles) r)),
             'appliesToRole', v_role_exists and exists(select 1 from unnest(p.polroles) r
                                                        where r = 0 or pg_catalog.pg_has_role(p_role, r, 'MEMBER')),
             'using', pg_catalog.pg_get_expr(p.polqual, p.polrelid)) order by p.polname), '[]')
      into v_policies
      from pg_catalog.pg_policy p where p.polrelid = v_oid;
  end if;

  select jsonb_build_object('columns', to_jsonb(pt.attnames), 'rowFilter', pt.rowfilter), pt.rowfilter
    into v_member, v_row_filter
    from pg_catalog.pg_publication_tables pt
   where pt.pubname = p_publication and pt.schemaname = p_schema and pt.tablename = p_table;
  select jsonb_build_object('allTables', p.puballtables, 'insert', p.pubinsert, 'update', p.pubupdate,
                            'delete', p.pubdelete, 'member', v_member)
    into v_publication
    from pg_catalog.pg_publication p where p.pubname = p_publication;

  -- The row, by its primary key: from p_row, or p_row_id for a one-column key.
  if v_oid is not null and array_length(v_pk, 1) > 0 and (p_row is not null or p_row_id is not null) then
    foreach c in array v_pk loop
      if p_row is not null and p_row ? c and p_row ->> c is not null then
        v_key := v_key || jsonb_build_object(c, p_row -> c);
      elsif p_row_id is not null and array_length(v_pk, 1) = 1 then
        v_key := v_key || jsonb_build_object(c, p_row_id);
      end if;
    end loop;
    if (select count(*) from jsonb_object_keys(v_key)) = array_length(v_pk, 1) then
      select string_agg(format('%I = ($1 ->> %L)::%s', a.attname, a.attname,
                               pg_catalog.format_type(a.atttypid, a.atttypmod)), ' and ')
        into v_where
        from unnest(v_pk) k(name) join pg_catalog.pg_attribute a on a.attrelid = v_oid and a.attname = k.name;
      execute format('select pg_catalog.to_jsonb(t) from %I.%I t where %s', p_schema, p_table, v_where)
        into v_values using v_key;
      if v_values is null then
        v_row := jsonb_build_object('key', v_key, 'found', false, 'values', null, 'rowFilterPasses', null,
                                    'visibility', null);
      else
        if v_row_filter is not null then
          execute format('select coalesce((%s), false) from %I.%I where %s', v_row_filter, p_schema, p_table, v_where)
            into v_filter_passes using v_key;
        end if;
        if v_role_exists then
          -- RLS for p_role: some permissive policy holds and every restrictive one does.
          select string_agg('(' || coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), 'true') || ')', ' or ')
                   filter (where p.polpermissive),
                 string_agg('(' || coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), 'true') || ')', ' and ')
                   filter (where not p.polpermissive)
            into v_permissive, v_restrictive
            from pg_catalog.pg_policy p
           where p.polrelid = v_oid and p.polcmd in ('r', '*')
             and exists(select 1 from unnest(p.polroles) r where r = 0 or pg_catalog.pg_has_role(p_role, r, 'MEMBER'));
          perform pg_catalog.set_config('request.jwt.claims', p_claims::text, true);
          perform pg_catalog.set_config('request.jwt.claim.sub', coalesce(p_claims ->> 'sub', ''), true);
          perform pg_catalog.set_config('request.jwt.claim.role', coalesce(p_claims ->> 'role', ''), true);
          begin
            if not coalesce(v_table_select, false) then
              v_visible := false;
            elsif not v_class.rls then
              v_visible := true;
            else
              execute format('select exists(select 1 from %I.%I where %s and (%s) and (%s))', p_schema, p_table,
                             v_where, coalesce(v_permissive, 'false'), coalesce(v_restrictive, 'true'))
                into v_visible using v_key;
            end if;
          exception when others then
            v_visible := null;
            v_error := sqlerrm;
          end;
          perform pg_catalog.set_config('request.jwt.claims', coalesce(v_old_claims, ''), true);
          perform pg_catalog.set_config('request.jwt.claim.sub', coalesce(v_old_sub, ''), true);
          perform pg_catalog.set_config('request.jwt.claim.role', coalesce(v_old_role, ''), true);
        end if;
        v_row := jsonb_build_object('key', v_key, 'found', true, 'values', v_values,
          'rowFilterPasses', v_filter_passes,
          'visibility', case when v_role_exists then jsonb_build_object(
            'visible', v_visible, 'method', 'policy_expressions', 'error', v_error) end);
      end if;
    end if;
  end if;

  return jsonb_build_object(
    'schemaExists', v_schema_exists,
    'roleExists', v_role_exists,
    'table', v_table,
    'grants', jsonb_build_object('schemaUsage', v_schema_usage, 'tableSelect', v_table_select,
                                 'selectableColumns', to_jsonb(v_selectable)),
    'publication', v_publication,
    'policies', v_policies,
    'row', v_row);
end;
$$;

revoke all on function public.realtime_matrix_doctor(text, text, text, jsonb, jsonb, text, text) from public;
revoke all on function public.realtime_matrix_doctor(text, text, text, jsonb, jsonb, text, text) from anon, authenticated;
grant execute on function public.realtime_matrix_doctor(text, text, text, jsonb, jsonb, text, text) to service_role;

-- Broadcast from Database. Read-only like the function above; the six settings realtime's probes set
-- (PROTOCOL-BROADCAST.md §2.4) are set transaction-locally, except `role` (SET ROLE is forbidden in a
-- security definer function): the policies' expressions are evaluated on the probe row instead, so
-- subqueries inside them read with this function owner's rights, and current_user is its owner.
create or replace function public.realtime_matrix_doctor_broadcast(
  p_schema text,
  p_table text,
  p_role text,
  p_claims jsonb,
  p_topic text,
  p_extensions text[] default array['broadcast'],
  p_private boolean default true,
  p_writer text default null,
  p_headers jsonb default '{}'
) returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_messages boolean := pg_catalog.to_regclass('realtime.messages') is not null;
  v_role_exists boolean := exists(select 1 from pg_catalog.pg_roles where rolname = p_role);
  v_role_bypass boolean := false;
  v_rls boolean := true;
  v_triggers jsonb := '[]';
  v_functions jsonb := '[]';
  v_policies jsonb := '[]';
  v_read jsonb := null;
  v_write jsonb := null;
  v_writer_bypass boolean := null;
  v_old_topic text := pg_catalog.current_setting('realtime.topic', true);
  v_old_claims text := pg_catalog.current_setting('request.jwt.claims', true);
  v_old_sub text := pg_catalog.current_setting('request.jwt.claim.sub', true);
  v_old_role text := pg_catalog.current_setting('request.jwt.claim.role', true);
  v_old_headers text := pg_catalog.current_setting('request.headers', true);
  v_perm text;
  v_restr text;
  v_ok boolean;
  v_allowed boolean[];
  v_probe jsonb;
  v_kind text;
  ext text;
begin
  -- The watched table's triggers, with their functions' bodies and who runs them.
  select coalesce(jsonb_agg(jsonb_build_object(
           'name', t.tgname::text, 'schema', pn.nspname::text, 'fn', p.proname::text,
           'enabled', t.tgenabled::text, 'type', t.tgtype::int, 'definer', p.prosecdef,
           'owner', r.rolname::text, 'ownerBypass', r.rolsuper or r.rolbypassrls,
           'source', coalesce(p.prosrc, '')) order by t.tgname), '[]')
    into v_triggers
    from pg_catalog.pg_trigger t
    join pg_catalog.pg_class c on c.oid = t.tgrelid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    join pg_catalog.pg_proc p on p.oid = t.tgfoid
    join pg_catalog.pg_namespace pn on pn.oid = p.pronamespace
    join pg_catalog.pg_roles r on r.oid = p.proowner
   where n.nspname = p_schema and c.relname = p_table and not t.tgisinternal;

  -- The app's SQL and PL/pgSQL functions: a trigger may hand its send to one of them.
  select coalesce(jsonb_agg(jsonb_build_object(
           'schema', n.nspname::text, 'name', p.proname::text, 'definer', p.prosecdef,
           'owner', r.rolname::text, 'ownerBypass', r.rolsuper or r.rolbypassrls,
           'source', coalesce(p.prosrc, ''))), '[]')
    into v_functions
    from pg_catalog.pg_proc p
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    join pg_catalog.pg_language l on l.oid = p.prolang
    join pg_catalog.pg_roles r on r.oid = p.proowner
   where l.lanname in ('sql', 'plpgsql')
     and n.nspname not in ('pg_catalog', 'information_schema', 'realtime', 'pg_toast')
     and n.nspname not like 'pg\_temp%'
     and p.prosrc ~* '\(';

  if p_writer is not null then
    select rolsuper or rolbypassrls into v_writer_bypass from pg_catalog.pg_roles where rolname = p_writer;
  end if;

  if v_messages then
    select coalesce(jsonb_agg(jsonb_build_object(
             'name', p.polname::text,
             'permissive', p.polpermissive,
             'cmd', case p.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE'
                                  when 'd' then 'DELETE' else 'ALL' end,
             'roles', to_jsonb(array(select case when r = 0 then 'public' else pg_catalog.pg_get_userbyid(r)::text end
                                       from unnest(p.polroles) r)),
             'appliesToRole', v_role_exists and exists(select 1 from unnest(p.polroles) r
                                                        where r = 0 or pg_catalog.pg_has_role(p_role, r, 'MEMBER')),
             'using', pg_catalog.pg_get_expr(p.polqual, p.polrelid),
             'withCheck', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)) order by p.polname), '[]')
      into v_policies
      from pg_catalog.pg_policy p where p.polrelid = 'realtime.messages'::regclass;
  end if;

  if v_messages and p_private and v_role_exists then
    select rolsuper or rolbypassrls into v_role_bypass from pg_catalog.pg_roles where rolname = p_role;
    select c.relrowsecurity into v_rls from pg_catalog.pg_class c where c.oid = 'realtime.messages'::regclass;
    perform pg_catalog.set_config('realtime.topic', p_topic, true);
    perform pg_catalog.set_config('request.jwt.claims', p_claims::text, true);
    perform pg_catalog.set_config('request.jwt.claim.sub', coalesce(p_claims ->> 'sub', ''), true);
    perform pg_catalog.set_config('request.jwt.claim.role', p_role, true);
    perform pg_catalog.set_config('request.headers', coalesce(p_headers, '{}')::text, true);
    -- 'r': the join's read check (SELECT policies, USING); 'a': the lazy write check (INSERT
    -- policies, WITH CHECK, or USING for a FOR ALL policy without one).
    foreach v_kind in array array['r', 'a'] loop
      select string_agg('(' || coalesce(pg_catalog.pg_get_expr(
                 case when v_kind = 'a' then coalesce(p.polwithcheck, p.polqual) else p.polqual end,
                 p.polrelid), 'true') || ')', ' or ') filter (where p.polpermissive),
             string_agg('(' || coalesce(pg_catalog.pg_get_expr(
                 case when v_kind = 'a' then coalesce(p.polwithcheck, p.polqual) else p.polqual end,
                 p.polrelid), 'true') || ')', ' and ') filter (where not p.polpermissive)
        into v_perm, v_restr
        from pg_catalog.pg_policy p
       where p.polrelid = 'realtime.messages'::regclass and p.polcmd in (v_kind, '*')
         and exists(select 1 from unnest(p.polroles) r where r = 0 or pg_catalog.pg_has_role(p_role, r, 'MEMBER'));
      v_allowed := '{}';
      begin
        foreach ext in array p_extensions loop
          if not pg_catalog.has_table_privilege(p_role, 'realtime.messages',
                                                case when v_kind = 'a' then 'INSERT' else 'SELECT' end) then
            v_ok := false;
          elsif v_role_bypass or not v_rls then
            v_ok := true;
          else
            -- The probe row as realtime inserts it: topic and extension, private false, no event or payload.
            execute format('select exists(select 1 from pg_catalog.jsonb_populate_record(null::realtime.messages, $1) as messages where (%s) and (%s))',
                           coalesce(v_perm, 'false'), coalesce(v_restr, 'true'))
              into v_ok
              using jsonb_build_object('id', pg_catalog.gen_random_uuid(), 'topic', p_topic, 'extension', ext,
                                       'private', false, 'inserted_at', pg_catalog.now(), 'updated_at', pg_catalog.now());
          end if;
          v_allowed := v_allowed || v_ok;
        end loop;
        v_probe := jsonb_build_object('allowed', v_allowed[1], 'error', null, 'method', 'policy_expressions');
        if pg_catalog.array_length(p_extensions, 1) > 1 then
          v_probe := v_probe || jsonb_build_object('presence', v_allowed[2]);
        end if;
      exception when others then
        v_probe := jsonb_build_object('allowed', null, 'error', sqlstate || ' ' || sqlerrm, 'method', 'policy_expressions');
      end;
      if v_kind = 'r' then v_read := v_probe; else v_write := v_probe; end if;
    end loop;
    perform pg_catalog.set_config('realtime.topic', coalesce(v_old_topic, ''), true);
    perform pg_catalog.set_config('request.jwt.claims', coalesce(v_old_claims, ''), true);
    perform pg_catalog.set_config('request.jwt.claim.sub', coalesce(v_old_sub, ''), true);
    perform pg_catalog.set_config('request.jwt.claim.role', coalesce(v_old_role, ''), true);
    perform pg_catalog.set_config('request.headers', coalesce(v_old_headers, ''), true);
  end if;

  return jsonb_build_object(
    'messagesTable', v_messages,
    'triggers', v_triggers,
    'functions', v_functions,
    'policies', v_policies,
    'read', v_read,
    'write', v_write,
    'writerBypassesRls', v_writer_bypass);
end;
$$;

revoke all on function public.realtime_matrix_doctor_broadcast(text, text, text, jsonb, text, text[], boolean, text, jsonb) from public;
revoke all on function public.realtime_matrix_doctor_broadcast(text, text, text, jsonb, text, text[], boolean, text, jsonb) from anon, authenticated;
grant execute on function public.realtime_matrix_doctor_broadcast(text, text, text, jsonb, text, text[], boolean, text, jsonb) to service_role;
