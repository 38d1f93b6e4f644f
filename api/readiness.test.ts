import { describe, expect, it } from 'vitest';
import type { InformerHealth } from '../lib/kube/informer.ts';
import { readinessOf } from './readiness.ts';

const health = (failingSince?: number): InformerHealth => ({
  synced: true,
  watching: failingSince === undefined,
  lastEventAt: undefined,
  relists: 1,
  restarts: 0,
  lastError: failingSince === undefined ? undefined : 'connect ECONNREFUSED',
  failingSince,
});

describe('readinessOf', () => {
  it('is ready and ok while the cache is current', () => {
    const readiness = readinessOf(true, health());
    expect(readiness.code).toBe(200);
    expect(readiness.body).toMatchObject({
      ready: true,
      status: 'ok',
      cache: 'current',
      unreachableSince: null,
    });
  });

  it('stays ready but degraded, saying since when, while the API server is away', () => {
    const since = Date.parse('2026-01-02T03:04:05.000Z');
    const readiness = readinessOf(true, health(since));
    expect(readiness.code).toBe(200);
    expect(readiness.body).toMatchObject({
      ready: true,
      status: 'degraded',
      cache: 'serving from cache, API server unreachable since 2026-01-02T03:04:05.000Z',
      unreachableSince: '2026-01-02T03:04:05.000Z',
    });
  });

  it('is not ready before the first sync', () => {
    const readiness = readinessOf(false, { ...health(), synced: false });
    expect(readiness.code).toBe(503);
    expect(readiness.body.status).toBe('starting');
  });
});
