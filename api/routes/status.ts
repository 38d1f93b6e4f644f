// GET /status/{id}: the caller's download as the API shows it, from the cache,
// or from the archive once it is gone from the cluster.
import { Router } from 'express';
import { callerOf, findVisibleOrArchived } from '../callers.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { statusView } from '../status-view.ts';

export function statusRoutes(deps: Pick<ApiDependencies, 'config' | 'downloads' | 'archive'>): Router {
  return Router().get('/status/:id', async (req, res) => {
    const { download } = await findVisibleOrArchived(
      deps,
      deps.config.namespace,
      String(req.params.id),
      callerOf(req),
    );
    res.json(statusView(download));
  });
}
