import { describe, expect, it } from 'vitest';
import { permanentFailureExitCode } from '../crds/video-download.ts';
import { desiredJob, jobNameFor, keyPrefixFor } from './desired-job.ts';
import { download, testConfig } from './test-fixtures.ts';

describe('jobNameFor', () => {
  it('keeps short names, so the Job is easy to find', () => {
    expect(jobNameFor('my-video')).toBe('my-video');
  });
  it('shortens long names deterministically to fit the 63-character job-name label', () => {
    const long = `${'a'.repeat(60)}.b-c-d-e-f`;
    expect(jobNameFor(long)).toHaveLength(63);
    expect(jobNameFor(long)).toBe(jobNameFor(long));
    expect(jobNameFor(long)).not.toBe(jobNameFor(`${long}x`));
    expect(jobNameFor(`${'a'.repeat(53)}--------------`)).toMatch(/^a{53}-[0-9a-f]{8}$/);
  });
});

describe('desiredJob', () => {
  const job = desiredJob(download('clip', { retries: 4, limits: { deadlineSeconds: 900 } }), testConfig);
  const pod = job.spec?.template.spec;
  const container = pod?.containers[0];
  const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));

  it('is owned by its VideoDownload, so the garbage collector removes it', () => {
    expect(job.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'vdl.dev/v1alpha1',
        kind: 'VideoDownload',
        name: 'clip',
        uid: 'uid-clip',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it('takes retries and deadline from the spec', () => {
    expect(job.spec?.backoffLimit).toBe(4);
    expect(job.spec?.activeDeadlineSeconds).toBe(900);
    expect(desiredJob(download(), testConfig).spec?.activeDeadlineSeconds).toBe(
      testConfig.defaultDeadlineSeconds,
    );
  });

  it('fails at once on the permanent-failure exit code, and ignores disruptions', () => {
    expect(job.spec?.podFailurePolicy?.rules).toEqual([
      {
        action: 'FailJob',
        onExitCodes: { containerName: 'downloader', operator: 'In', values: [permanentFailureExitCode] },
      },
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    ]);
    expect(pod?.restartPolicy).toBe('Never');
    expect(job.spec?.podReplacementPolicy).toBe('Failed');
  });

  it('meets the restricted Pod Security Standard', () => {
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod?.volumes?.every((v) => v.emptyDir || v.projected || v.name === 'upload')).toBe(true);
    expect(env.VDL_COOKIES_FILE).toBeUndefined();
    expect(env.VDL_RATE_LIMIT).toBeUndefined();
    expect(pod?.volumes?.find((v) => v.name === 'work')?.emptyDir?.sizeLimit).toBe(
      testConfig.workDirSizeLimit,
    );
  });

  it('mounts no default token; only the projected one for progress', () => {
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.serviceAccountName).toBe(testConfig.downloaderServiceAccount);
    const projected = pod?.volumes?.find((v) => v.name === 'vdl-token')?.projected?.sources;
    expect(projected?.[0]?.serviceAccountToken?.path).toBe('token');
  });

  it('passes the spec and its own upload plan as a file, and no storage credentials at all', () => {
    expect(JSON.parse(env.VDL_SPEC as string)).toMatchObject({ url: 'https://example.com/v', retries: 4 });
    expect(container?.resources).toEqual({ requests: testConfig.requests, limits: testConfig.limits });
    // Nothing from a Secret through the environment (readable in /proc/PID/environ), no S3 settings.
    expect(
      (container?.env ?? []).filter((e) => e.valueFrom?.secretKeyRef || /S3|BUCKET/.test(e.name)),
    ).toEqual([]);
    expect(container?.envFrom).toBeUndefined();
    // The only Secret volume is the download's own plan, one file, readable by the downloader alone.
    const secrets = (pod?.volumes ?? []).filter(
      (v) => v.secret || v.projected?.sources?.some((s) => s.secret),
    );
    expect(secrets).toEqual([
      {
        name: 'upload',
        secret: {
          secretName: 'vdl-upload-uid-clip',
          items: [{ key: 'upload-plan.json', path: 'upload-plan.json' }],
          defaultMode: 0o400,
        },
      },
    ]);
    const mount = container?.volumeMounts?.find((m) => m.name === 'upload');
    expect(mount?.readOnly).toBe(true);
    expect(env.VDL_UPLOAD_PLAN_FILE).toBe(`${mount?.mountPath}/upload-plan.json`);
  });

  it("labels Job and pods for the operator's label-selected caches", () => {
    expect(job.spec?.template.metadata?.labels).toMatchObject({
      'vdl.dev/download': 'clip',
      'app.kubernetes.io/managed-by': 'vdl-operator',
    });
  });

  it('mounts a cookies Secret only when the spec names one: the one key, readable by its owner alone', () => {
    const withCookies = desiredJob(
      download('c', { cookies: { secretName: 'vdl-cookies-alice', key: 'site.txt' } }),
      testConfig,
    );
    const spec = withCookies.spec?.template.spec;
    const downloader = spec?.containers[0];
    expect(spec?.volumes?.find((v) => v.name === 'cookies')?.secret).toEqual({
      secretName: 'vdl-cookies-alice',
      items: [{ key: 'site.txt', path: 'cookies.txt' }],
      defaultMode: 0o400,
    });
    const mount = downloader?.volumeMounts?.find((m) => m.name === 'cookies');
    expect(mount?.readOnly).toBe(true);
    expect(downloader?.env?.find((e) => e.name === 'VDL_COOKIES_FILE')?.value).toBe(
      `${mount?.mountPath}/cookies.txt`,
    );
  });

  it("limits the rate by the spec, else by the operator's default", () => {
    const rateOf = (job: ReturnType<typeof desiredJob>) =>
      job.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'VDL_RATE_LIMIT')?.value;
    const limited = { ...testConfig, defaultRateLimit: '5Mi' };
    expect(rateOf(desiredJob(download('r', { limits: { rateLimit: '500K' } }), limited))).toBe('500K');
    expect(rateOf(desiredJob(download('r', {}), limited))).toBe('5Mi');
  });

  it('puts every download under its own prefix, inside a configured one', () => {
    expect(keyPrefixFor(download('a', { storage: { keyPrefix: 'videos/' } }))).toBe('videos/team/a/uid-a/');
  });
});
