// The REST API as one express app, composed of its parts: metrics, the open
// routes, authentication, the routes of each resource, the live streams, and
// the problem responses. Reads come from the informer's cache, never a GET
// per request; writes go to the API server. No state of its own, so replicas
// run side by side.
import express from 'express';
import { authenticate } from './callers.ts';
import type { ApiDependencies } from './dependencies.ts';
import { problemHandler, unknownRoute } from './error-handler.ts';
import { eventRoutes } from './live/sse.ts';
import { webSocketRoutes } from './live/websocket.ts';
import { ApiMetrics } from './metrics.ts';
import { downloadRoutes } from './routes/downloads.ts';
import { resultRoutes } from './routes/result.ts';
import { statusRoutes } from './routes/status.ts';
import { systemRoutes } from './routes/system.ts';
import { ticketRoutes } from './routes/tickets.ts';
import { webRoutes } from './routes/web.ts';

export function createApp(deps: ApiDependencies) {
  const { config } = deps;
  const metrics = new ApiMetrics();
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(metrics.timeRequests());
  app.use(systemRoutes(deps, metrics), webRoutes());
  // Everything below needs a caller.
  app.use(authenticate({ noAuth: config.noAuth, keys: deps.keys, ticketKey: deps.ticketKey }));
  app.use(
    ticketRoutes(deps),
    downloadRoutes(deps, metrics),
    statusRoutes(deps),
    resultRoutes(deps),
    eventRoutes(deps),
    webSocketRoutes(),
  );
  app.use(unknownRoute(), problemHandler(config.bodyLimitBytes, deps.logger));
  return app;
}
