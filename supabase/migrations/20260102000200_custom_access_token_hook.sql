-- Custom access token hook (Supabase Auth → Hooks → Customize Access Token): copies the user's
-- `app_metadata.user_role` to the top-level `user_role` claim, which the RLS policies and the
-- portals' role check read. Enable it with
--   [auth.hook.custom_access_token] enabled = true
--   uri = "pg-functions://postgres/public/custom_access_token_hook"
-- It runs as supabase_auth_admin on every token issue, refreshes included, so a role change takes
-- effect at the next refresh.

create or replace function public.custom_access_token_hook(event jsonb)
returns jsonb
language plpgsql
stable
-- Everything below is schema-qualified; an empty search_path keeps a caller's objects out.
set search_path = ''
as $$
declare
  claims jsonb := event -> 'claims';
  role_name text;
begin
  -- Read the role from auth.users rather than the incoming claims: app_metadata is the source of
  -- truth, and the claims' copy of it is whatever the previous token carried.
  select u.raw_app_meta_data ->> 'user_role'
    into role_name
    from auth.users u
   where u.id = (event ->> 'user_id')::uuid;

  if role_name is not null then
    claims := jsonb_set(claims, '{user_role}', to_jsonb(role_name));
  else
    -- As the Supabase recipe does: the claim is present and null, so "no role" is explicit.
    claims := jsonb_set(claims, '{user_role}', 'null'::jsonb);
  end if;

  return jsonb_set(event, '{claims}', claims);
end;
$$;

-- Only Supabase Auth may call the hook; the API roles must not be able to mint claims through RPC.
grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
revoke execute on function public.custom_access_token_hook(jsonb) from authenticated, anon, public;
-- The hook reads auth.users, which supabase_auth_admin owns; nothing else needs granting.
