-- Local demo data, applied after the migrations (as `supabase start` / `supabase db reset` do).
-- The three help-desk users share the demo password `helpdesk-demo-password`: a public demo value
-- like the demo API keys, for the local project only. The prod-like project's users are created
-- through the admin API with passwords generated at boot (portals/seed-users.ts).
-- Idempotent: re-running leaves existing rows alone.

insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
  -- GoTrue scans these as strings; NULL makes sign-in fail on a real `supabase start`.
  confirmation_token, recovery_token, email_change_token_new, email_change
)
values
  ('00000000-0000-0000-0000-000000000000', '00000000-0000-4000-8000-00000000c001',
   'authenticated', 'authenticated', 'client@helpdesk.test',
   extensions.crypt('helpdesk-demo-password', extensions.gen_salt('bf')), now(),
   '{"provider":"email","providers":["email"],"user_role":"client"}', '{"name":"Demo Client"}',
   now(), now(), '', '', '', ''),
  ('00000000-0000-0000-0000-000000000000', '00000000-0000-4000-8000-00000000a001',
   'authenticated', 'authenticated', 'agent@helpdesk.test',
   extensions.crypt('helpdesk-demo-password', extensions.gen_salt('bf')), now(),
   '{"provider":"email","providers":["email"],"user_role":"agent"}', '{"name":"Demo Agent"}',
   now(), now(), '', '', '', ''),
  ('00000000-0000-0000-0000-000000000000', '00000000-0000-4000-8000-00000000ad01',
   'authenticated', 'authenticated', 'admin@helpdesk.test',
   extensions.crypt('helpdesk-demo-password', extensions.gen_salt('bf')), now(),
   '{"provider":"email","providers":["email"],"user_role":"admin"}', '{"name":"Demo Admin"}',
   now(), now(), '', '', '', '')
on conflict do nothing;

-- Email sign-in needs an email identity per user (provider_id = the user id for provider "email").
insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
select u.id::text, u.id,
       jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true, 'phone_verified', false),
       'email', now(), now(), now()
  from auth.users u
 where u.id in ('00000000-0000-4000-8000-00000000c001',
                '00000000-0000-4000-8000-00000000a001',
                '00000000-0000-4000-8000-00000000ad01')
on conflict do nothing;

-- A few tickets so the demo dashboards are not empty: one per visibility case.
insert into public.tickets (id, title, description, status, priority, created_by, assigned_to)
values
  ('00000000-0000-4000-8000-0000000000e1', 'Printer on the 3rd floor jams on duplex',
   'Happens with every double-sided job since Monday.', 'open', 'normal',
   '00000000-0000-4000-8000-00000000c001', null),
  ('00000000-0000-4000-8000-0000000000e2', 'VPN drops every hour',
   'Disconnects at :00, reconnect works.', 'in_progress', 'high',
   '00000000-0000-4000-8000-00000000c001', '00000000-0000-4000-8000-00000000a001'),
  ('00000000-0000-4000-8000-0000000000e3', 'Quarterly access review',
   'Internal: review who still needs admin.', 'open', 'low',
   '00000000-0000-4000-8000-00000000ad01', '00000000-0000-4000-8000-00000000ad01')
on conflict do nothing;
