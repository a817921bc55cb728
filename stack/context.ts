import type { ProjectConfig } from './config.ts';
import type { RealtimeFaults } from './faults/hooks.ts';
import type { JwtKeys } from './jwt.ts';
import type { ApiKeys } from './keys.ts';
import type { Logger } from './log.ts';
import type { Database } from './postgres/db.ts';

/** Everything a service (auth, rest, realtime) of one project needs. */
export interface ProjectContext {
  config: ProjectConfig;
  db: Database;
  jwt: JwtKeys;
  keys: ApiKeys;
  log: Logger;
  /** Fault switches acting inside this project's realtime (healthy by default). */
  realtimeFaults: RealtimeFaults;
}
