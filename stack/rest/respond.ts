import type { ServerResponse } from 'node:http';

/** PostgREST's `Content-Range`: `lower-upper/total`, `*` for an empty range or an unknown total. */
export function contentRange(lower: number, upper: number, total: number | undefined): string {
  const range = total !== 0 && lower <= upper ? `${lower}-${upper}` : '*';
  return `${range}/${total === undefined ? '*' : total}`;
}

export function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | undefined,
  contentType: string | undefined,
  headOnly = false,
): void {
  const all: Record<string, string> = { ...headers };
  if (body !== undefined) {
    if (contentType) all['Content-Type'] = contentType;
    all['Content-Length'] = String(Buffer.byteLength(body));
  }
  res.writeHead(status, all);
  res.end(headOnly || body === undefined ? undefined : body);
}
