/** Why `npm run init` stopped, with a stable code; the message names the values and the next step. */
export type InitErrorCode =
  | 'BAD_ARGUMENT'
  | 'SUPABASE_DIR_MISSING'
  | 'SUPABASE_DIR_EMPTY'
  | 'MIGRATION_FAILED'
  | 'NO_REALTIME_TABLE'
  | 'SEVERAL_CANDIDATES'
  | 'UNKNOWN_TABLE'
  | 'UNUSABLE_TABLE'
  | 'FILE_EXISTS';

export class InitError extends Error {
  constructor(
    readonly code: InitErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'InitError';
  }
}
