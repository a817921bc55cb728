/**
 * What a Broadcast from Database trigger sends to, read from its function's body: the topic (the
 * first argument of `realtime.broadcast_changes`, the third of `realtime.send`), and for `send` its
 * event and `private`. Only the shapes that say it plainly are proposed — a string literal, or
 * `'prefix' || NEW.col` (optionally `::text`, or `coalesce(NEW.col, OLD.col)`); anything else is left
 * to the user with the expression quoted, never guessed.
 */
export interface BroadcastProposal {
  /** The topic argument as written in the function, when the call was found. */
  expression?: string;
  topic?: { kind: 'constant'; value: string } | { kind: 'column'; prefix: string; column: string };
  /** `realtime.send`'s event when it is a literal; broadcast_changes names it after the operation. */
  event?: string;
  /** `realtime.send`'s 4th argument when a literal; broadcast_changes always sends private. */
  private?: boolean;
}

const CALL = /realtime\.(broadcast_changes|send)\s*\(/i;

export function proposeBroadcast(source: string): BroadcastProposal {
  const call = CALL.exec(source);
  if (!call) return {};
  const args = splitArguments(source, call.index + call[0].length);
  if (!args) return {};
  const isSend = call[1]!.toLowerCase() === 'send';
  const expression = isSend ? args[2] : args[0];
  if (expression === undefined) return {};
  const out: BroadcastProposal = { expression };
  const topic = readTopic(expression);
  if (topic) out.topic = topic;
  if (isSend) {
    const event = literal(args[1] ?? '');
    if (event !== undefined) out.event = event;
    const priv = args[3]?.trim().toLowerCase();
    // realtime.send's `private` defaults to true; an expression is left to the user.
    if (priv === undefined || priv === 'true') out.private = true;
    else if (priv === 'false') out.private = false;
  } else {
    out.private = true;
  }
  return out;
}

function readTopic(expression: string): BroadcastProposal['topic'] {
  const constant = literal(expression);
  if (constant !== undefined) return { kind: 'constant', value: constant };
  // Groups: 1 the prefix, 2 NEW.col, 3 coalesce(NEW.col, OLD.col) (\3 its OLD twin), 4 (NEW.col).
  const col = String.raw`(?:new\.([a-z_][a-z0-9_]*)|coalesce\(\s*new\.([a-z_][a-z0-9_]*)\s*,\s*old\.\3\s*\)|\(\s*new\.([a-z_][a-z0-9_]*)\s*\))`;
  const m = new RegExp(String.raw`^'((?:[^']|'')*)'\s*\|\|\s*${col}(?:\s*::\s*(?:text|varchar))?$`, 'i').exec(
    expression.trim(),
  );
  if (!m) return undefined;
  const column = (m[2] ?? m[3] ?? m[4])!.toLowerCase();
  return { kind: 'column', prefix: m[1]!.replaceAll("''", "'"), column };
}

/** A plain SQL string literal's value (`'room'`, `'it''s'`), else undefined. */
function literal(expression: string): string | undefined {
  const m = /^'((?:[^']|'')*)'(?:\s*::\s*text)?$/.exec(expression.trim());
  return m ? m[1]!.replaceAll("''", "'") : undefined;
}

/** The top-level arguments of a call whose `(` ends just before `start`; undefined if unbalanced. */
export function splitArguments(source: string, start: number): string[] | undefined {
  const args: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = start; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === "'") {
      const end = source.indexOf("'", i + 1);
      if (end < 0) return undefined;
      // '' inside a literal is an escaped quote: the scan continues past it on the next loop.
      current += source.slice(i, end + 1);
      i = end;
      continue;
    }
    if (ch === '(') depth++;
    else if (ch === ')') {
      if (depth === 0) {
        args.push(current.trim());
        return args;
      }
      depth--;
    } else if (ch === ',' && depth === 0) {
      args.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  return undefined;
}

/**
 * The helper's body as the trigger calls it: each of the helper's parameters replaced by the
 * argument the trigger passes (`perform public.notify_room(new.room_id, tg_op)` makes `p_room` in
 * `'room:' || p_room` read `new.room_id`), so the topic reads as if the trigger sent it itself.
 * Unchanged when the call is not found or the parameters are unnamed.
 */
export function inlineCall(
  caller: string,
  helper: { schema: string; name: string; args: readonly string[]; source: string },
): string {
  const ident = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const call = new RegExp(
    `(?:"?${ident(helper.schema)}"?\\s*\\.\\s*)?"?${ident(helper.name)}"?\\s*\\(`,
    'i',
  ).exec(caller);
  if (!call) return helper.source;
  const args = splitArguments(caller, call.index + call[0].length);
  if (!args) return helper.source;
  let body = helper.source;
  helper.args.forEach((param, i) => {
    const arg = args[i];
    if (!param || arg === undefined) return;
    // A plain reference (new.col, a cast of it) stays bare; anything else is parenthesized.
    const value = /^[a-z_][\w$]*(?:\.[a-z_][\w$]*)?(?:\s*::\s*\w+)?$/i.test(arg) ? arg : `(${arg})`;
    body = body.replace(new RegExp(`(?<![\\w$.])${ident(param)}(?![\\w$])`, 'gi'), () => value);
  });
  return body;
}
