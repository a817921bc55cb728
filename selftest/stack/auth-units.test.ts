import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../stack/auth/duration.ts';
import { parseHookUri } from '../../stack/auth/hook.ts';
import { rfc3339 } from '../../stack/auth/sql.ts';

describe('rfc3339 (Postgres timestamp text → Go RFC3339Nano)', () => {
  it('keeps microseconds, drops trailing zeros and converts any offset to UTC', () => {
    expect(rfc3339('2026-01-01 00:00:00.123456+00')).toBe('2026-01-01T00:00:00.123456Z');
    expect(rfc3339('2026-01-01 00:00:00.120000+00')).toBe('2026-01-01T00:00:00.12Z');
    expect(rfc3339('2026-01-01 00:00:00+00')).toBe('2026-01-01T00:00:00Z');
    expect(rfc3339('2026-01-01 02:30:00.5+02:30')).toBe('2026-01-01T00:00:00.5Z');
    expect(rfc3339('2025-12-31 19:00:00-05')).toBe('2026-01-01T00:00:00Z');
    // timestamp without time zone (sessions.refreshed_at) is UTC by GoTrue's convention.
    expect(rfc3339('2026-01-01 00:00:00.000001')).toBe('2026-01-01T00:00:00.000001Z');
    expect(rfc3339(null)).toBeUndefined();
  });

  it('names the text it cannot read', () => {
    expect(() => rfc3339('yesterday')).toThrow('Unexpected timestamp text from Postgres: "yesterday"');
  });
});

describe('parseGoDuration (ban_duration)', () => {
  it('reads what time.ParseDuration reads', () => {
    expect(parseGoDuration('24h')).toBe(86_400_000);
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('-2m')).toBe(-120_000);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('250ms')).toBe(250);
  });

  it("refuses what it refuses, with Go's message", () => {
    expect(() => parseGoDuration('1 day')).toThrow('time: invalid duration "1 day"');
    expect(() => parseGoDuration('12')).toThrow('time: missing unit in duration "12"');
    expect(() => parseGoDuration('')).toThrow('time: invalid duration ""');
  });
});

describe('parseHookUri', () => {
  it('quotes schema and function as GoTrue does', () => {
    expect(parseHookUri('pg-functions://postgres/public/custom_access_token_hook')).toEqual({
      uri: 'pg-functions://postgres/public/custom_access_token_hook',
      functionName: '"public"."custom_access_token_hook"',
    });
  });

  it('refuses HTTP hooks and malformed URIs, naming the URI and the expected form', () => {
    expect(() => parseHookUri('https://example.com/hook')).toThrow(
      'Access token hook "https://example.com/hook" is not supported: only Postgres function hooks of the form pg-functions://postgres/<schema>/<fn> are',
    );
    expect(() => parseHookUri('pg-functions://postgres/public')).toThrow(/is not supported/);
    expect(() => parseHookUri('not a uri')).toThrow(/is not a URI/);
  });
});
