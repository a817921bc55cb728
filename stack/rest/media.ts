import type { IncomingMessage } from 'node:http';
import { pgrstError } from './errors.ts';

export interface Media {
  /** `application/vnd.pgrst.object+json`: exactly one row, answered as an object. */
  singular: boolean;
  stripNulls: boolean;
  /** `text/csv` (supabase-js `.csv()`): reads only here. */
  csv: boolean;
  contentType: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const ARRAY_TYPES = new Set(['application/json', 'application/vnd.pgrst.array+json', '*/*', 'application/*']);
const OBJECT_TYPES = new Set(['application/vnd.pgrst.object+json', 'application/vnd.pgrst.object']);

/**
 * Pick the response media type from `Accept` as PostgREST does for tables: JSON arrays, the singular
 * object, or CSV; anything else (GeoJSON, plans) is its 406 PGRST107 here.
 */
export function negotiate(req: IncomingMessage): Media {
  const accept = req.headers.accept?.trim();
  if (!accept) return { singular: false, stripNulls: false, csv: false, contentType: JSON_TYPE };
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
        csv: false,
        contentType: `application/vnd.pgrst.object+json${stripNulls ? '; nulls=stripped' : ''}; charset=utf-8`,
      };
    }
    if (mime === 'text/csv') {
      return { singular: false, stripNulls: false, csv: true, contentType: 'text/csv; charset=utf-8' };
    }
    if (ARRAY_TYPES.has(mime)) {
      const vnd = mime === 'application/vnd.pgrst.array+json';
      return {
        singular: false,
        stripNulls: vnd && stripNulls,
        csv: false,
        contentType: vnd
          ? `application/vnd.pgrst.array+json${stripNulls ? '; nulls=stripped' : ''}; charset=utf-8`
          : JSON_TYPE,
      };
    }
  }
  throw pgrstError(406, 'PGRST107', `None of these media types are available: ${offered.join(', ')}`);
}
