-- Helpers of the embedded postgres_changes engine (stack/realtime/changes). They mirror the hosted
-- "walrus" checks (supabase/realtime subscription_check_filters.sql and apply_rls.sql) so a
-- subscription is refused, and a change authorized, by the same Postgres rules and messages.
-- Idempotent: run at bootstrap and again, under an advisory lock, when an engine starts.

create schema if not exists realtime;

-- Validate one subscription against one published table, as the hosted BEFORE INSERT trigger on
-- realtime.subscription does: the exceptions raised here are the ones the client sees in the
-- "An exception happened" system message. Returns, per filter, what the engine needs to evaluate it:
-- the column type, whether its collation is deterministic, and the canonical text of the value.
create or replace function realtime.rtm_check_subscription(
  entity regclass,
  claims_role text,
  filter_cols text[],
  filter_ops text[],
  filter_vals text[],
  selected text[]
) returns jsonb
language plpgsql
as $$
declare
  col_names text[] = coalesce(
    (select array_agg(a.attname order by a.attnum)
       from pg_catalog.pg_attribute a
      where a.attrelid = entity
        and a.attnum > 0
        and not a.attisdropped
        and pg_catalog.has_column_privilege(claims_role, a.attrelid, a.attnum, 'SELECT')),
    '{}'::text[]);
  i int;
  col_type regtype;
  col_typname text;
  deterministic boolean;
  in_val jsonb;
  canon jsonb;
  result jsonb = '[]'::jsonb;
  selected_col text;
begin
  for i in 1 .. coalesce(array_length(filter_cols, 1), 0) loop
    if not filter_cols[i] = any(col_names) then
      raise exception 'invalid column for filter %', filter_cols[i];
    end if;
    select a.atttypid::regtype, t.typname, coalesce(c.collisdeterministic, true)
      into col_type, col_typname, deterministic
      from pg_catalog.pg_attribute a
      join pg_catalog.pg_type t on t.oid = a.atttypid
      left join pg_catalog.pg_collation c on c.oid = a.attcollation
     where a.attrelid = entity and a.attname = filter_cols[i];
    if col_type is null then
      raise exception 'failed to lookup type for column %', filter_cols[i];
    end if;
    canon = null;
    if filter_ops[i] = 'in' then
      if col_type::text = 'bytea' then
        in_val = to_jsonb(filter_vals[i]);
      else
        execute format('select to_jsonb(%L::%s[])', filter_vals[i], col_type::text) into in_val;
      end if;
      if coalesce(jsonb_array_length(in_val), 0) > 100 then
        raise exception 'too many values for `in` filter. Maximum 100';
      end if;
      execute format('select to_jsonb(array(select x::text from unnest(%L::%s[]) x))', filter_vals[i], col_type::text)
        into canon;
    elsif filter_ops[i] = 'is' then
      if filter_vals[i] not in ('null', 'true', 'false', 'unknown') then
        raise exception 'invalid value for is filter: must be null, true, false, or unknown';
      end if;
      if filter_vals[i] <> 'null' and col_type <> 'boolean'::regtype then
        raise exception 'is % filter requires a boolean column, got %', filter_vals[i], col_type::text;
      end if;
    else
      if filter_ops[i] in ('match', 'imatch') then
        -- The pattern is checked on its own first, so a bad one gets its own error.
        begin
          perform '' ~ filter_vals[i];
        exception when others then
          raise exception 'invalid regular expression for % filter: %', filter_ops[i], sqlerrm;
        end;
      elsif filter_ops[i] not in ('like', 'ilike') then
        -- eq/neq/lt/lte/gt/gte/isdistinct: the value must cast to the column type.
        if col_type::text = 'bytea' then
          canon = to_jsonb(filter_vals[i]);
        else
          execute format('select to_jsonb((%L::%s)::text)', filter_vals[i], col_type::text) into canon;
        end if;
      end if;
      -- Evaluate the operator once, value against itself, by the expression the engine evaluates
      -- (filters.ts sqlExpression), as hosted probes check_equality_op: a pattern ending in the
      -- escape character, or an operator the type lacks (like on integer, eq on json), is refused
      -- here instead of failing at delivery time.
      begin
        if filter_ops[i] = 'isdistinct' then
          execute format('select %L::%s is distinct from %L::%s',
            filter_vals[i], col_type::text, filter_vals[i], col_type::text);
        else
          execute format('select %L::%s %s (%L::%s)', filter_vals[i], col_type::text,
            case filter_ops[i]
              when 'eq' then '=' when 'neq' then '!=' when 'lt' then '<' when 'lte' then '<='
              when 'gt' then '>' when 'gte' then '>=' when 'like' then 'LIKE' when 'ilike' then 'ILIKE'
              when 'match' then '~' when 'imatch' then '~*' end,
            filter_vals[i], col_type::text);
        end if;
      exception when others then
        raise exception 'operator % is not supported on column % of type %: %',
          filter_ops[i], filter_cols[i], col_type::text, sqlerrm;
      end;
    end if;
    result = result || jsonb_build_array(jsonb_build_object(
      'type', col_type::text, 'typname', col_typname, 'deterministic', deterministic, 'canonical', canon));
  end loop;

  if selected is not null then
    foreach selected_col in array selected loop
      if not selected_col = any(col_names) then
        raise exception 'invalid column for select %', selected_col;
      end if;
    end loop;
  end if;
  return result;
end;
$$;

-- Authorize one change for every distinct claims set among its matching subscribers, in one round
-- trip. Mirrors apply_rls: column privileges per role (`roles` also covers subscribers whose filters
-- did not match, for the hosted 401 error event); for RLS tables and non-DELETE actions, the row
-- is visible iff `select exists(... where <pk> = <values>)` is true as that role with
-- request.jwt.claims set. Claims whose role cannot SELECT the whole primary key are not checked
-- (the engine sends them the hosted 401 error event instead).
--
-- Claims travel once per database session, not once per change: each claims set is kept in a
-- session-level setting `rtm_claims.k<key>` (key = a SHA-256 prefix of its stable JSON, computed by
-- the engine), and a change passes only the keys and the role of each. When this session lacks a
-- key (a new connection, or `reset all`/`discard all` ran on it) and `claims` is null, the function
-- returns {"missing": n} and the engine calls again with `claims` (the JSON array in key order),
-- which registers them. The PK lookup is a session-level prepared statement named after its text,
-- prepared once per session and table shape (Postgres re-plans it on DDL and per role for RLS).
-- Earlier signatures of this file's versions, so a persisted database keeps one definition.
drop function if exists realtime.rtm_authorize(regclass, text[], text[], text[], text[], boolean, jsonb);
drop function if exists realtime.rtm_authorize(regclass, text[], text[], text[], text[], text[], boolean, jsonb);
drop function if exists realtime.rtm_authorize(regclass, text[], text[], text[], text[], text[], boolean, jsonb, bigint);
drop function if exists realtime.rtm_authorize(regclass, text[], text[], text[], text[], text[], boolean, text[], text[], jsonb, bigint);

create or replace function realtime.rtm_authorize(
  entity regclass,
  col_names text[],
  roles text[],
  pk_names text[],
  pk_types text[],
  pk_vals text[],
  check_rows boolean,
  claim_keys text[],
  claim_roles text[],
  claims jsonb,
  xid bigint,
  isolate boolean
) returns jsonb
language plpgsql
as $$
declare
  rls boolean = (select relrowsecurity from pg_catalog.pg_class where oid = entity);
  privileges jsonb = '{}'::jsonb;
  pk_ok jsonb = '{}'::jsonb;
  n_claims int = coalesce(array_length(claim_keys, 1), 0);
  claims_list text[] = '{}';
  visible boolean[] = '{}';
  failed jsonb = '[]'::jsonb;
  working_role text;
  current_role_name text;
  role_may_read boolean;
  c text;
  ok boolean;
  stmt text;
  stmt_name text;
  run text;
  i int;
  snap pg_snapshot;
  xmax8 bigint;
  xid8_full bigint;
begin
  perform set_config('role', null, true);
  -- The claims (in the order of claim_keys): from this session's registry, or registered now.
  for i in 1 .. n_claims loop
    c = pg_catalog.current_setting('rtm_claims.k' || claim_keys[i], true);
    if c is null or c = '' then
      if claims is null then
        return jsonb_build_object('missing', n_claims - i + 1);
      end if;
      c = (claims -> (i - 1))::text;
      perform pg_catalog.set_config('rtm_claims.k' || claim_keys[i], c, false);
    end if;
    claims_list = claims_list || c;
  end loop;

  foreach working_role in array roles loop
    privileges = privileges || jsonb_build_object(working_role, (
      select coalesce(jsonb_agg(pg_catalog.has_column_privilege(working_role, entity, n, 'SELECT') order by o), '[]')
        from unnest(col_names) with ordinality u(n, o)));
    pk_ok = pk_ok || jsonb_build_object(working_role, (
      select coalesce(bool_and(pg_catalog.has_column_privilege(working_role, entity, n, 'SELECT')), false)
        from unnest(pk_names) n));
  end loop;

  if not (check_rows and rls and coalesce(array_length(pk_names, 1), 0) > 0) then
    return jsonb_build_object('rls', rls, 'privileges', privileges, 'pk_ok', pk_ok,
      'visible', (select coalesce(jsonb_agg(true), '[]'::jsonb) from unnest(claims_list)));
  end if;

  -- The walsender may stream a transaction as soon as its commit record is flushed, a moment before
  -- the committing backend makes it visible to new snapshots; an RLS check in that moment would miss
  -- the row. Postgres offers no way to block on that, so wait until a fresh snapshot sees the xid
  -- (microseconds in practice; bounded at about one second). The 32-bit xid from the stream gets
  -- the epoch of the snapshot's xmax.
  if xid is not null then
    for i in 1 .. 10000 loop
      snap = pg_catalog.pg_current_snapshot();
      xmax8 = pg_catalog.pg_snapshot_xmax(snap)::text::bigint;
      xid8_full = (xmax8 & ~4294967295::bigint) | xid;
      if xid8_full > xmax8 then
        xid8_full = xid8_full - 4294967296;
      end if;
      exit when pg_catalog.pg_visible_in_snapshot(xid8_full::text::xid8, snap);
      perform pg_catalog.pg_sleep(0.0001);
    end loop;
  end if;

  stmt = format('select exists(select 1 from %s where %s)', entity, (
    select string_agg(format('%I = $%s::%s', n, o, t), ' and ')
      from unnest(pk_names, pk_types) with ordinality u(n, t, o)));
  stmt_name = 'rtm_rls_' || md5(stmt);
  if not exists (select 1 from pg_catalog.pg_prepared_statements where name = stmt_name) then
    execute format('prepare %I(%s) as %s', stmt_name,
      (select string_agg('text', ', ') from unnest(pk_names)), stmt);
  end if;
  run = format('execute %I(%s)', stmt_name, (select string_agg(quote_nullable(v), ', ') from unnest(pk_vals) v));
  -- Iterating an array (not a query) keeps every statement in the loop under the switched role
  -- free of table access, so the role only needs resetting when it changes and at the end.
  -- The claims are ordered by role (the engine sends them so), so the role switches once per role.
  for i in 1 .. n_claims loop
    if i = 1 or claim_roles[i] is distinct from current_role_name then
      current_role_name = claim_roles[i];
      role_may_read = coalesce((pk_ok ->> current_role_name)::boolean, false);
      perform set_config('role', null, true);
      if role_may_read then
        perform set_config('role', current_role_name, true);
      end if;
    end if;
    ok = false;
    if role_may_read and isolate then
      -- A policy can raise for one claims set (a cast of a malformed claim): that subscriber does
      -- not see the row, and the others are still checked, as hosted's apply_rls contains it. The
      -- subtransaction costs a little, so the engine asks for this only after a call failed.
      begin
        perform set_config('request.jwt.claims', claims_list[i], true);
        execute run into ok;
      exception when others then
        ok = false;
        failed = failed || jsonb_build_object('index', i - 1, 'error', sqlerrm, 'sqlstate', sqlstate);
      end;
    elsif role_may_read then
      perform set_config('request.jwt.claims', claims_list[i], true);
      execute run into ok;
    end if;
    visible = visible || coalesce(ok, false);
  end loop;
  perform set_config('role', null, true);
  return jsonb_build_object('rls', rls, 'privileges', privileges, 'pk_ok', pk_ok, 'visible', to_jsonb(visible),
    'failed', failed);
end;
$$;

-- Only the engine (the superuser) calls these: rtm_authorize switches roles and reads any table.
revoke all on function realtime.rtm_check_subscription(regclass, text, text[], text[], text[], text[]) from public;
revoke all on function realtime.rtm_authorize(regclass, text[], text[], text[], text[], text[], boolean, text[], text[], jsonb, bigint, boolean)
  from public;

-- Lets an engine tell whether this file's current version is installed.
create or replace function realtime.rtm_changes_version() returns int language sql immutable as $$ select 7 $$;
