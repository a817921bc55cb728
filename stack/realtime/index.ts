import type { ProjectContext } from '../context.ts';
import { createChangesEngine } from './changes/index.ts';
import { buildRealtimeService, type RealtimeService } from './service.ts';

/**
 * Realtime for one project, mounted at `/realtime/v1`: Phoenix channels over WebSocket with
 * postgres_changes from the project's own replication stream, broadcast and presence.
 */
export async function realtimeService(ctx: ProjectContext): Promise<RealtimeService> {
  return buildRealtimeService(ctx, await createChangesEngine(ctx));
}
