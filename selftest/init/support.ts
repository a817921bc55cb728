import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Temp folders made by a test file; `cleanup()` in afterAll removes them. */
export function tempDirs() {
  const made: string[] = [];
  return {
    make(prefix: string): string {
      const dir = mkdtempSync(join(tmpdir(), `rtm-init-${prefix}-`));
      made.push(dir);
      return dir;
    },
    cleanup(): void {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An app folder with `supabase/migrations/<name>` files (and seed.sql when given). */
export function writeApp(root: string, migrations: Record<string, string>, seed?: string): string {
  const supabase = join(root, 'supabase');
  for (const [name, sql] of Object.entries(migrations)) {
    const file = join(supabase, 'migrations', name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, sql);
  }
  if (seed !== undefined) writeFileSync(join(supabase, 'seed.sql'), seed);
  return supabase;
}

/**
 * tsc's verdict on a config file outside the repo, as the config loader runs it: an ES module
 * whatever package.json is near it (load-hooks.mjs), 'realtime-matrix' mapped to
 * fixtures/config/public.ts, otherwise the repo's compiler options. Under NodeNext a `.ts` in a
 * folder without `"type": "module"` would count as CommonJS, where tsc refuses `import.meta`.
 */
let previous: ts.Program | undefined;

export function typeErrors(file: string): string[] {
  const configPath = join(ROOT, 'tsconfig.json');
  const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  // The previous program lends its parsed files (lib, @playwright/test, the repo's own): seconds each.
  const program = ts.createProgram(
    [file],
    {
      ...parsed.options,
      noEmit: true,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      baseUrl: ROOT,
      paths: { 'realtime-matrix': ['fixtures/config/public.ts'] },
      typeRoots: [join(ROOT, 'node_modules', '@types')],
    },
    undefined,
    previous,
  );
  previous = program;
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`tsc did not read ${file}`);
  // The config file's own diagnostics (which resolve whatever it imports), not the repo's.
  return [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSyntacticDiagnostics(source),
    ...program.getSemanticDiagnostics(source),
  ].map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    return `${d.file?.fileName ?? ''}${where ? `:${where.line + 1}` : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}
