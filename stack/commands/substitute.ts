/**
 * The placeholders a declared portal's `command`, `url` and `env` values may hold, filled per
 * environment when the stack starts the portal. `${NAME}` is the shell's own and is left alone.
 */
export const PLACEHOLDERS = ['port', 'host', 'supabaseUrl', 'anonKey'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type PlaceholderValues = Record<Placeholder, string>;

const PATTERN = /(?<!\$)\{([A-Za-z]+)\}/g;

function isPlaceholder(name: string): name is Placeholder {
  return (PLACEHOLDERS as readonly string[]).includes(name);
}

/** The `{name}`s of a template that are not placeholders, for the config's validation. */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(PATTERN)].map((m) => m[1] ?? '').filter((name) => !isPlaceholder(name));
}

export function usesPlaceholder(template: string, name: Placeholder): boolean {
  return [...template.matchAll(PATTERN)].some((m) => m[1] === name);
}

export function substitute(template: string, values: PlaceholderValues): string {
  return template.replace(PATTERN, (whole, name: string) => (isPlaceholder(name) ? values[name] : whole));
}
