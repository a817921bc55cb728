import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RestWorld, startRestWorld } from './rest-support.ts';

/**
 * Resource embedding through unmodified supabase-js: many-to-one objects, one-to-many arrays,
 * disambiguation by foreign-key column or constraint, `!inner` with embedded filters, embedded
 * order/limit, RLS on the embedded table, and PostgREST's PGRST200/PGRST201 refusals.
 */

let w: RestWorld;

beforeAll(async () => {
  w = await startRestWorld();
  await w.sql(`
    create table public.rest_authors (id int primary key, name text not null);
    create table public.rest_books (
      id int primary key, title text not null,
      author_id int references public.rest_authors (id),
      editor_id int references public.rest_authors (id)
    );
    create table public.rest_reviews (
      id int primary key, book_id int not null references public.rest_books (id), stars int not null
    );
    insert into public.rest_authors values (1, 'Ann'), (2, 'Bo');
    insert into public.rest_books values (10, 'First', 1, 2), (11, 'Second', 1, null), (12, 'Third', 2, 1);
    insert into public.rest_reviews values (100, 10, 5), (101, 10, 3), (102, 11, 1), (103, 12, 5);
    alter table public.rest_reviews enable row level security;
    create policy "visible reviews" on public.rest_reviews for select to anon using (stars > 1);`);
});

afterAll(async () => {
  await w?.stack.stop();
});

describe('embedding', () => {
  it('embeds a many-to-one by foreign-key column, as an object (null when absent)', async () => {
    const { data, error } = await w.anon
      .from('rest_books')
      .select('title, author:author_id(name), editor:editor_id(name)')
      .order('id');
    expect(error).toBeNull();
    expect(data).toEqual([
      { title: 'First', author: { name: 'Ann' }, editor: { name: 'Bo' } },
      { title: 'Second', author: { name: 'Ann' }, editor: null },
      { title: 'Third', author: { name: 'Bo' }, editor: { name: 'Ann' } },
    ]);
  });

  it('serializes embedded rows as jsonb, as PostgREST does', async () => {
    const res = await w.raw(
      '/rest_books?select=id,rest_authors!rest_books_author_id_fkey(name,id)&id=eq.10',
      {
        token: w.stack.local.config.anonKey,
      },
    );
    expect(await res.text()).toBe('[{"id":10,"rest_authors":{"id": 1, "name": "Ann"}}]');
  });

  it('refuses an ambiguous embedding with 300 PGRST201 and names the candidates', async () => {
    const { error, status } = await w.anon.from('rest_books').select('title, rest_authors(name)');
    expect(status).toBe(300);
    expect(error?.code).toBe('PGRST201');
    expect(error?.message).toBe(
      "Could not embed because more than one relationship was found for 'rest_books' and 'rest_authors'",
    );
    expect(error?.hint).toBe(
      "Try changing 'rest_authors' to one of the following: 'rest_authors!rest_books_author_id_fkey', 'rest_authors!rest_books_editor_id_fkey'. Find the desired relationship in the 'details' key.",
    );
  });

  it('embeds a one-to-many as an array, [] when empty, with RLS applied to the embedded rows', async () => {
    const { data, error } = await w.anon.from('rest_books').select('id, rest_reviews(stars)').order('id');
    expect(error).toBeNull();
    expect(data).toEqual([
      { id: 10, rest_reviews: [{ stars: 5 }, { stars: 3 }] },
      { id: 11, rest_reviews: [] },
      { id: 12, rest_reviews: [{ stars: 5 }] },
    ]);
  });

  it('nests embeddings and disambiguates with !hint', async () => {
    const { data, error } = await w.service
      .from('rest_authors')
      .select('name, books:rest_books!author_id(title, rest_reviews(stars))')
      .eq('id', 1)
      .order('id', { referencedTable: 'books' })
      .single();
    expect(error).toBeNull();
    expect(data).toEqual({
      name: 'Ann',
      books: [
        { title: 'First', rest_reviews: [{ stars: 5 }, { stars: 3 }] },
        { title: 'Second', rest_reviews: [{ stars: 1 }] },
      ],
    });
  });

  it('!inner with an embedded filter keeps only matching parents', async () => {
    const { data, error, count } = await w.service
      .from('rest_books')
      .select('title, rest_reviews!inner(stars)', { count: 'exact' })
      .eq('rest_reviews.stars', 5)
      .order('id');
    expect(error).toBeNull();
    expect(count).toBe(2);
    expect(data).toEqual([
      { title: 'First', rest_reviews: [{ stars: 5 }] },
      { title: 'Third', rest_reviews: [{ stars: 5 }] },
    ]);
  });

  it('an empty !inner embed filters without adding a key; an empty select gives empty objects', async () => {
    const { data, error } = await w.service
      .from('rest_books')
      .select('title, rest_reviews!inner()')
      .eq('rest_reviews.stars', 1);
    expect(error).toBeNull();
    expect(data).toEqual([{ title: 'Second' }]);
    const res = await w.raw('/rest_books?select=&id=lt.12', { token: w.stack.local.config.serviceRoleKey });
    expect(await res.text()).toBe('[{}, \n {}]');
  });

  it('orders and limits the embedded rows', async () => {
    const { data } = await w.service
      .from('rest_books')
      .select('id, rest_reviews(stars)')
      .eq('id', 10)
      .order('stars', { referencedTable: 'rest_reviews', ascending: true })
      .limit(1, { referencedTable: 'rest_reviews' });
    expect(data).toEqual([{ id: 10, rest_reviews: [{ stars: 3 }] }]);
  });

  it('embeds in the representation of a mutation', async () => {
    const { data, error } = await w.service
      .from('rest_books')
      .insert({ id: 13, title: 'Fourth', author_id: 2 })
      .select('title, author:author_id(name)')
      .single();
    expect(error).toBeNull();
    expect(data).toEqual({ title: 'Fourth', author: { name: 'Bo' } });
  });

  it('answers an unknown relationship with 400 PGRST200 and an unselected filter path with PGRST108', async () => {
    const missing = await w.anon.from('rest_books').select('title, rest_nothing(*)');
    expect(missing.status).toBe(400);
    expect(missing.error).toEqual({
      code: 'PGRST200',
      details:
        "Searched for a foreign key relationship between 'rest_books' and 'rest_nothing' in the schema 'public', but no matches were found.",
      hint: null,
      message: "Could not find a relationship between 'rest_books' and 'rest_nothing' in the schema cache",
    });
    const unselected = await w.anon.from('rest_books').select('title').eq('rest_reviews.stars', 5);
    expect(unselected.status).toBe(400);
    expect(unselected.error).toEqual({
      code: 'PGRST108',
      details: null,
      hint: "Verify that 'rest_reviews' is included in the 'select' query parameter.",
      message: "'rest_reviews' is not an embedded resource in this request",
    });
  });

  it('embeds a one-to-one (unique foreign key) as an object from both ends', async () => {
    await w.sql(`create table public.rest_covers (id int primary key, book_id int unique references public.rest_books (id), color text);
      insert into public.rest_covers values (1, 10, 'red')`);
    const fromBook = await w.service
      .from('rest_books')
      .select('id, rest_covers(color)')
      .in('id', [10, 11])
      .order('id');
    expect(fromBook.data).toEqual([
      { id: 10, rest_covers: { color: 'red' } },
      { id: 11, rest_covers: null },
    ]);
    const fromCover = await w.service.from('rest_covers').select('color, rest_books(title)');
    expect(fromCover.data).toEqual([{ color: 'red', rest_books: { title: 'First' } }]);
  });

  it('finds a foreign key added after the schema cache loaded', async () => {
    await w.sql(`create table public.rest_tags (id int primary key, book_id int references public.rest_books (id), tag text);
      insert into public.rest_tags values (1, 12, 'late')`);
    const { data, error } = await w.service.from('rest_books').select('id, rest_tags(tag)').eq('id', 12);
    expect(error).toBeNull();
    expect(data).toEqual([{ id: 12, rest_tags: [{ tag: 'late' }] }]);
  });
});
