// GET /status/{id}: the caller's download as the API shows it, from the cache.
import { Router } from 'express';
import { callerOf, findVisible } from '../callers.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { statusView } from '../status-view.ts';

export function statusRoutes(deps: Pick<ApiDependencies, 'config' | 'downloads'>): Router {
  return Router().get('/status/:id', (req, res) => {
    res.json(
      statusView(findVisible(deps.downloads, deps.config.namespace, String(req.params.id), callerOf(req))),
    );
  });
}
