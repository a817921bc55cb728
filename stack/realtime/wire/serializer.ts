import type { Serializer } from './message.ts';
import { v1Serializer } from './serializer-v1.ts';
import { v2Serializer } from './serializer-v2.ts';

/**
 * Phoenix picks the serializer from the `vsn` query param and defaults to 1.0.0 when it is absent
 * (`Phoenix.Socket`: `params["vsn"] || "1.0.0"`), matching `~> 1.0.0` / `~> 2.0.0`.
 */
export function serializerFor(vsn: string | null): Serializer | undefined {
  const requested = vsn ?? '1.0.0';
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(requested);
  if (!m) return undefined;
  if (m[1] === '1' && m[2] === '0') return v1Serializer;
  if (m[1] === '2' && m[2] === '0') return v2Serializer;
  return undefined;
}
