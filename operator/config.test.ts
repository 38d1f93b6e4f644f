import { describe, expect, it } from 'vitest';
import { loadOperatorConfig } from './config.ts';

describe('loadOperatorConfig', () => {
  it('works with no environment at all, for make dev', () => {
    expect(loadOperatorConfig({})).toMatchObject({ workers: 4, leaderElection: true, watchNamespace: '' });
  });

  it("reads numbers, booleans and the download pods' resources from VDL_* variables", () => {
    const config = loadOperatorConfig({
      VDL_WORKERS: '8',
      VDL_LEADER_ELECTION: 'false',
      VDL_REQUESTS_CPU: '1',
      VDL_LIMITS_MEMORY: '2Gi',
    });
    expect(config).toMatchObject({
      workers: 8,
      leaderElection: false,
      requests: { cpu: '1', memory: '256Mi' },
      limits: { cpu: '2', memory: '2Gi' },
    });
  });

  it('refuses bad values with a message naming them', () => {
    expect(() => loadOperatorConfig({ VDL_WORKERS: 'many' })).toThrow(
      /invalid operator configuration[\s\S]*workers/,
    );
    expect(() => loadOperatorConfig({ VDL_LIMITS_CPU: 'lots' })).toThrow(/limits/);
  });

  it('reads the storage credentials with the rest, and leaves them unset when absent', () => {
    expect(loadOperatorConfig({ VDL_S3_ACCESS_KEY: 'operator', VDL_S3_SECRET_KEY: 'secret' })).toMatchObject({
      s3AccessKey: 'operator',
      s3SecretKey: 'secret',
    });
    const unset = loadOperatorConfig({ VDL_S3_ACCESS_KEY: '' });
    expect([unset.s3AccessKey, unset.s3SecretKey]).toEqual([undefined, undefined]);
  });
});
