// What /readyz says: ready once the cache has synced, and whether it is
// current. While the API server is away the API stays ready (reads are
// served from the cache, which is what a load balancer should keep sending
// it) but reports "degraded" and since when.
import type { InformerHealth } from '../lib/kube/informer.ts';

export interface Readiness {
  /** HTTP status: 200 while reads can be served (even from a stale cache), 503 before the first sync. */
  code: 200 | 503;
  body: {
    ready: boolean;
    status: 'ok' | 'degraded' | 'starting';
    cache: string;
    /** When the cache stopped being fed by the API server, as an ISO time. */
    unreachableSince: string | null;
    informer: InformerHealth;
  };
}

export function readinessOf(synced: boolean, health: InformerHealth): Readiness {
  const since = health.failingSince === undefined ? null : new Date(health.failingSince).toISOString();
  if (!synced) {
    return {
      code: 503,
      body: {
        ready: false,
        status: 'starting',
        cache: since ? `not synced; API server unreachable since ${since}` : 'not synced yet',
        unreachableSince: since,
        informer: health,
      },
    };
  }
  return {
    code: 200,
    body: {
      ready: true,
      status: since ? 'degraded' : 'ok',
      cache: since ? `serving from cache, API server unreachable since ${since}` : 'current',
      unreachableSince: since,
      informer: health,
    },
  };
}
