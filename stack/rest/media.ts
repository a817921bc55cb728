import type { IncomingMessage } from 'node:http';
import { pgrstError } from './errors.ts';

export interface Media {
  /** `application/vnd.pgrst.object+json`: exactly one row, answered as an object. */
  singular: boolean;
  stripNulls: boolean;
  contentType: string;
}

const ARRAY_TYPES = new Set(['application/json', 'application/vnd.pgrst.array+json', '*/*', 'application/*']);
const OBJECT_TYPES = new Set(['application/vnd.pgrst.object+json', 'application/vnd.pgrst.object']);

/**
 * Pick the response media type from `Accept` as PostgREST does for tables: JSON arrays, or the
 * singular object; anything else (CSV, GeoJSON, plans) is its 406 PGRST107 here.
 */
export function negotiate(req: IncomingMessage): Media {
  const accept = req.headers.accept?.trim();
  if (!accept) return { singular: false, stripNulls: false, contentType: 'application/json; charset=utf-8' };
  const offered: string[] = [];
  for (const entry of accept.split(',')) {
    const [type = '', ...params] = entry.split(';').map((s) => s.trim());
    const mime = type.toLowerCase();
    offered.push(type);
    const stripNulls = params.some((p) => p.replace(/\s/g, '').toLowerCase() === 'nulls=stripped');
    if (OBJECT_TYPES.has(mime)) {
      return {
        singular: true,
        stripNulls,
        contentType: `application/vnd.pgrst.object+json${stripNulls ? '; nulls=stripped' : ''}; charset=utf-8`,
      };
    }
    if (ARRAY_TYPES.has(mime)) {
      const vnd = mime === 'application/vnd.pgrst.array+json';
      return {
        singular: false,
        stripNulls: vnd && stripNulls,
        contentType: vnd
          ? `application/vnd.pgrst.array+json${stripNulls ? '; nulls=stripped' : ''}; charset=utf-8`
          : 'application/json; charset=utf-8',
      };
    }
  }
  throw pgrstError(406, 'PGRST107', `None of these media types are available: ${offered.join(', ')}`);
}
