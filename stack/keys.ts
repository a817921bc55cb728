import { createHash } from 'node:crypto';

/**
 * The well-known `supabase start` demo values (shared/PROTOCOL.md §5.2). Public by design: every
 * local Supabase project uses them, so committing them leaks nothing.
 */
export const DEMO = {
  jwtSecret: 'super-secret-jwt-token-with-at-least-32-characters-long',
  anonKey:
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0',
  serviceRoleKey:
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU',
  publishableKey: 'sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH',
  secretKey: 'sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz',
} as const;

/** A short, stable, non-reversible name for a secret: safe for logs, reports and error messages. */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 8);
}

/** Opaque `sb_…` API keys are not JWTs; the gateway maps them to the JWT they stand for. */
export function isOpaqueKey(value: string): boolean {
  return value.startsWith('sb_publishable_') || value.startsWith('sb_secret_');
}

export interface ApiKeys {
  anonKey: string;
  serviceRoleKey: string;
  publishableKey: string;
  secretKey: string;
}

/**
 * The CLI's Kong mapping (PROTOCOL.md §5.3): `sb_secret_…` → service_role JWT, `sb_publishable_…` →
 * anon JWT; anything else passes through unchanged (a legacy JWT, or garbage the verifier refuses).
 */
export function mapApiKey(keys: ApiKeys, value: string): string {
  if (value === keys.secretKey) return keys.serviceRoleKey;
  if (value === keys.publishableKey) return keys.anonKey;
  return value;
}

/** Describe a key for humans without revealing it: "service_role key a1b2c3d4". */
export function describeKey(keys: ApiKeys, value: string): string {
  if (value === keys.anonKey || value === keys.publishableKey) return `anon key ${fingerprint(value)}`;
  if (value === keys.serviceRoleKey || value === keys.secretKey)
    return `service_role key ${fingerprint(value)}`;
  return `unknown key ${fingerprint(value)}`;
}
