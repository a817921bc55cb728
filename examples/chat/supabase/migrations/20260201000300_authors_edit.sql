-- Authors edit and delete their own messages (the live portal's cells prove both reach the room).
create policy "authors edit their messages" on public.messages for update to authenticated
  using (author_email = (select auth.jwt() ->> 'email'))
  with check (author_email = (select auth.jwt() ->> 'email'));

create policy "authors delete their messages" on public.messages for delete to authenticated
  using (author_email = (select auth.jwt() ->> 'email'));
