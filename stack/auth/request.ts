import type { IncomingMessage } from 'node:http';
import { readBody } from '../http/server.ts';
import { badRequest } from './errors.ts';

/** GoTrue's retrieveRequestParams: a JSON object body, or 400 `bad_json`. */
export async function readParams(
  req: IncomingMessage,
  { optional = false } = {},
): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  if (text.trim() === '' && optional) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    const detail = text.trim() === '' ? 'unexpected end of JSON input' : (cause as Error).message;
    throw badRequest('bad_json', `Could not parse request body as JSON: ${detail}`, cause);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest('bad_json', 'Could not parse request body as JSON: expected a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** GoTrue's requestAud for non-admin callers: the X-JWT-AUD header, else the default audience. */
export function requestAud(req: IncomingMessage): string {
  const header = req.headers['x-jwt-aud'];
  return (Array.isArray(header) ? header[0] : header) || 'authenticated';
}

/** A string field, or undefined when absent/null; any other type is GoTrue's bad_json. */
export function stringParam(params: Record<string, unknown>, key: string): string | undefined {
  const value = params[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw badRequest(
      'bad_json',
      `Could not parse request body as JSON: json: cannot unmarshal ${typeof value} into field ${key} of type string`,
    );
  }
  return value;
}

/** An object field (metadata), or undefined when absent/null. */
export function objectParam(
  params: Record<string, unknown>,
  key: string,
): Record<string, unknown> | undefined {
  const value = params[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(
      'bad_json',
      `Could not parse request body as JSON: json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into field ${key} of type map[string]interface {}`,
    );
  }
  return value as Record<string, unknown>;
}

export function boolParam(params: Record<string, unknown>, key: string): boolean {
  return params[key] === true;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** GoTrue's validateEmail: trimmed, lower-cased, at most 255 characters, a plausible address. */
export function validEmail(email: string): string {
  const value = email.trim().toLowerCase();
  if (value.length > 255) throw badRequest('validation_failed', 'An email address is too long');
  if (!EMAIL.test(value))
    throw badRequest('validation_failed', 'Unable to validate email address: invalid format');
  return value;
}

/** GoTrue's validatePhone: digits only (a leading + and spaces dropped), 8–15 of them. */
export function validPhone(phone: string): string {
  const value = phone.replace(/^\+/, '').replace(/[\s-]/g, '');
  if (!/^[1-9]\d{7,14}$/.test(value)) {
    throw badRequest('validation_failed', 'Invalid phone number format (E.164 required)');
  }
  return value;
}
