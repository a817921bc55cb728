import { LOCAL_DB_PORT, localProjectConfig, type ProjectConfig } from './config.ts';
import { type Cluster, startCluster } from './postgres/cluster.ts';
import { type Project, startProject } from './project.ts';

export interface StackOptions {
  /** Keep the database in this directory across runs (default: a temp dir removed on stop). */
  persistDir?: string;
  dbPort?: number;
  local?: Partial<ProjectConfig>;
}

export interface Stack {
  cluster: Cluster;
  local: Project;
  stop(): Promise<void>;
}

/** Start the embedded stack programmatically; `npm run stack` is a thin CLI over this. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const cluster = await startCluster({
    port: options.dbPort ?? LOCAL_DB_PORT,
    persistDir: options.persistDir,
  });
  let local: Project;
  try {
    local = await startProject(localProjectConfig(options.local), cluster);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    cluster,
    local,
    stop() {
      stopping ??= (async () => {
        await local.stop();
        await cluster.stop();
      })();
      return stopping;
    },
  };
}
