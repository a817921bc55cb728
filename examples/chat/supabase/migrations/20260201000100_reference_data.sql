-- Reference data, in a migration rather than seed.sql because a hosted project (prod) gets
-- migrations only: room 1 "general" and room 2 "random"; the member belongs to room 1 alone.
insert into public.rooms (id, name) overriding system value values (1, 'general'), (2, 'random');
select setval(pg_get_serial_sequence('public.rooms', 'id'), 2);
insert into public.room_members (room_id, member_email) values (1, 'member@chat.test');
