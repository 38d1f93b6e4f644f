import { describe, expect, it } from 'vitest';
import { envVariables } from '../lib/config/env-config.ts';
import { loadOperatorConfig, OperatorConfig } from './config.ts';

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
      /invalid operator configuration: VDL_WORKERS: /,
    );
    expect(() => loadOperatorConfig({ VDL_LIMITS_CPU: 'lots' })).toThrow(/VDL_LIMITS_CPU: /);
  });

  it('reads the storage credentials with the rest, and leaves them unset when absent', () => {
    expect(loadOperatorConfig({ VDL_S3_ACCESS_KEY: 'operator', VDL_S3_SECRET_KEY: 'secret' })).toMatchObject({
      s3AccessKey: 'operator',
      s3SecretKey: 'secret',
    });
    const unset = loadOperatorConfig({ VDL_S3_ACCESS_KEY: '' });
    expect([unset.s3AccessKey, unset.s3SecretKey]).toEqual([undefined, undefined]);
  });

  it('reads the download pod template as one JSON variable, and refuses what would loosen download pods', () => {
    expect(loadOperatorConfig({}).downloadPodTemplate).toEqual({});
    const template = {
      nodeSelector: { disk: 'ssd' },
      imagePullPolicy: 'Always',
      podLabels: { team: 'media' },
    };
    expect(
      loadOperatorConfig({ VDL_DOWNLOAD_POD_TEMPLATE: JSON.stringify(template) }).downloadPodTemplate,
    ).toEqual(template);
    const refused = (value: unknown) => () =>
      loadOperatorConfig({
        VDL_DOWNLOAD_POD_TEMPLATE: typeof value === 'string' ? value : JSON.stringify(value),
      });
    expect(refused({ securityContext: { runAsUser: 0 }, serviceAccountName: 'admin' })).toThrow(
      /VDL_DOWNLOAD_POD_TEMPLATE: securityContext, serviceAccountName: not allowed in a download pod template, which may set only nodeSelector, /,
    );
    for (const key of ['volumes', 'automountServiceAccountToken', 'containers', 'env', 'hostNetwork']) {
      expect(refused({ [key]: true })).toThrow(new RegExp(`${key}: not allowed`));
    }
    expect(
      refused({
        podAnnotations: { 'container.apparmor.security.beta.kubernetes.io/downloader': 'unconfined' },
      }),
    ).toThrow(/seccomp or AppArmor/);
    expect(refused({ imagePullPolicy: 'Sometimes' })).toThrow(/VDL_DOWNLOAD_POD_TEMPLATE/);
    expect(refused({ podLabels: { team: 'x'.repeat(64) } })).toThrow(/no label value/);
    expect(refused('{nope')).toThrow(/VDL_DOWNLOAD_POD_TEMPLATE: is no JSON/);
  });

  it('takes the Lease identity from HOSTNAME unless VDL_IDENTITY names one', () => {
    expect(loadOperatorConfig({ HOSTNAME: 'vdl-operator-7d9' }).identity).toBe(
      `vdl-operator-7d9-${process.pid}`,
    );
    expect(loadOperatorConfig({ HOSTNAME: 'pod', VDL_IDENTITY: 'me' }).identity).toBe('me');
  });

  it('reads exactly the variables the chart and the README name', () => {
    expect(envVariables(OperatorConfig.shape, 'VDL_').map((variable) => variable.name)).toEqual([
      'VDL_WATCH_NAMESPACE',
      'VDL_LEASE_NAMESPACE',
      'VDL_LEASE_NAME',
      'VDL_LEADER_ELECTION',
      'VDL_IDENTITY',
      'VDL_WORKERS',
      'VDL_MAX_ACTIVE_DOWNLOADS',
      'VDL_MAX_ACTIVE_PER_OWNER',
      'VDL_DOWNLOADER_IMAGE',
      'VDL_DOWNLOADER_SERVICE_ACCOUNT',
      'VDL_S3_ENDPOINT',
      'VDL_S3_REGION',
      'VDL_S3_ACCESS_KEY',
      'VDL_S3_SECRET_KEY',
      'VDL_DEFAULT_BUCKET',
      'VDL_DEFAULT_MAX_FILE_SIZE',
      'VDL_DEFAULT_DEADLINE_SECONDS',
      'VDL_MIN_UPLOAD_PART_SIZE',
      'VDL_DEFAULT_RATE_LIMIT',
      'VDL_ALLOW_HOSTS',
      'VDL_DENY_HOSTS',
      'VDL_EGRESS_ALLOW',
      'VDL_WORK_DIR_SIZE_LIMIT',
      'VDL_REQUESTS_CPU',
      'VDL_REQUESTS_MEMORY',
      'VDL_LIMITS_CPU',
      'VDL_LIMITS_MEMORY',
      'VDL_DOWNLOAD_POD_TEMPLATE',
      'VDL_JOB_TTL_SECONDS_AFTER_FINISHED',
      'VDL_VOLUME_CLAIMS',
      'VDL_FINALIZER_TIMEOUT_SECONDS',
      'VDL_WEBHOOK_ENABLED',
      'VDL_WEBHOOK_ALLOW',
      'VDL_WEBHOOK_MAX_ATTEMPTS',
      'VDL_WEBHOOK_BACKOFF_SECONDS',
      'VDL_WEBHOOK_BACKOFF_MAX_SECONDS',
      'VDL_WEBHOOK_TIMEOUT_SECONDS',
      'VDL_ARCHIVE_URL',
      'VDL_ARCHIVE_FINALIZER_TIMEOUT_SECONDS',
      'VDL_ARCHIVE_RETRY_SECONDS',
      'VDL_ARCHIVE_TTL_DAYS',
      'VDL_METRICS_PORT',
      'VDL_METRICS_HOST',
      'VDL_LOG_LEVEL',
    ]);
  });
});
