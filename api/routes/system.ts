// The routes for machines, open without a key: liveness, readiness,
// Prometheus metrics and the OpenAPI document.
import { Router } from 'express';
import type { ApiDependencies } from '../dependencies.ts';
import type { ApiMetrics } from '../metrics.ts';
import { openApiDocument } from '../openapi.ts';
import { readinessOf } from '../readiness.ts';

export function systemRoutes(
  deps: Pick<ApiDependencies, 'ready' | 'downloads'>,
  metrics: ApiMetrics,
): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  router.get('/readyz', (_req, res) => {
    const readiness = readinessOf(deps.ready(), deps.downloads.health);
    res.status(readiness.code).json(readiness.body);
  });
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  return router;
}
