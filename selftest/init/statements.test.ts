import { describe, expect, it } from 'vitest';
import { indexOfPosition, lineAt, splitStatements } from '../../scripts/init/statements.ts';

const texts = (sql: string) => splitStatements(sql).map((s) => s.text);

describe('splitStatements: where a migration file’s statements start', () => {
  it('semicolons inside quotes, dollar quotes, comments and parentheses do not end a statement', () => {
    const sql = [
      "insert into t values ('a;b', E'it\\'s; x', \"odd;name\");",
      '-- a comment; with a semicolon',
      'create function f() returns int language sql as $$ select 1; $$;',
      'create function g() returns int language plpgsql as $body$ begin return 1; end $body$;',
      '/* outer; /* inner; */ still; */ select 2;',
      'select f((1; 2)); select 3;',
    ].join('\n');
    expect(texts(sql)).toEqual([
      "insert into t values ('a;b', E'it\\'s; x', \"odd;name\");",
      'create function f() returns int language sql as $$ select 1; $$;',
      'create function g() returns int language plpgsql as $body$ begin return 1; end $body$;',
      'select 2;',
      'select f((1; 2));',
      'select 3;',
    ]);
  });

  it('a statement starts at its first token, after comments and blank lines; the last needs no semicolon', () => {
    const sql = 'select 1;\n\n-- next\n  select $1, a$b from x';
    const statements = splitStatements(sql);
    expect(statements.map((s) => lineAt(sql, s.start).line)).toEqual([1, 4]);
    expect(statements[1]!.text).toBe('select $1, a$b from x');
  });

  it('an unterminated quote or comment runs to the end of the file', () => {
    expect(texts("select 'open;\nselect 2;")).toEqual(["select 'open;\nselect 2;"]);
    expect(texts('select 1; /* open; select 2;')).toEqual(['select 1;']);
  });
});

describe('Postgres positions as lines', () => {
  it('counts characters as Postgres does, so a character outside the BMP is one', () => {
    const sql = "select '😀';\nselect nope;";
    // Postgres says 20 for the n of nope: 8 + 1 (😀) + 3 + 8.
    const index = indexOfPosition(sql, 20);
    expect(sql.slice(index, index + 4)).toBe('nope');
    expect(lineAt(sql, index)).toEqual({ line: 2, column: 8 });
  });
});
