import { authService } from './auth/index.ts';
import type { ProjectContext } from './context.ts';
import type { Route } from './http/server.ts';
import { realtimeService } from './realtime/index.ts';
import { restService } from './rest/index.ts';

/** A piece of a project's API (auth, rest, realtime): its routes and how to stop it. */
export interface Service {
  name: string;
  routes: Route[];
  stop?(): Promise<void>;
}

export type ServiceFactory = (ctx: ProjectContext) => Promise<Service> | Service;

/** The services every project serves, in mount order. */
export async function projectServices(ctx: ProjectContext): Promise<Service[]> {
  const factories: ServiceFactory[] = [authService, restService, realtimeService];
  const services: Service[] = [];
  for (const factory of factories) services.push(await factory(ctx));
  return services;
}
