// Prometheus metrics of the manager (reconciles, queue, leadership), in a
// registry of its own so two operators in one test process do not collide.
// Controllers register their own metrics in the same registry.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createManagerMetrics() {
  const registry = new Registry();
  // Process and Node.js runtime metrics (memory, heap, event loop lag, GC).
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    reconciles: new Counter({
      name: 'vdl_operator_reconciles_total',
      help: 'Reconciles by result (success, error, requeue, conflict: a write refused on a stale cache, retried).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    reconcileSeconds: new Histogram({
      name: 'vdl_operator_reconcile_duration_seconds',
      help: 'Time to reconcile one VideoDownload.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'vdl_operator_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      registers: [registry],
    }),
    isLeader: new Gauge({
      name: 'vdl_operator_leader',
      help: '1 while this replica leads.',
      registers: [registry],
    }),
  };
}
export type ManagerMetrics = ReturnType<typeof createManagerMetrics>;
