import type { V1Container } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { permanentFailureExitCode } from '../../../crds/video-download.ts';
import { desiredJob, downloadLabelValue, downloadNameOf, jobNameFor, keyPrefixFor } from './desired-job.ts';
import { download, testConfig } from './test-fixtures.ts';

describe('jobNameFor', () => {
  it('keeps short names, so the Job is easy to find', () => {
    expect(jobNameFor('my-video')).toBe('my-video');
  });
  it("shortens long names deterministically, so the Job controller never cuts its pods' names", () => {
    const long = `${'a'.repeat(60)}.b-c-d-e-f`;
    expect(jobNameFor(long)).toHaveLength(52);
    expect(jobNameFor(long)).toBe(jobNameFor(long));
    expect(jobNameFor(long)).not.toBe(jobNameFor(`${long}x`));
    expect(jobNameFor('a'.repeat(52))).toBe('a'.repeat(52));
    expect(jobNameFor(`${'a'.repeat(42)}--------------`)).toMatch(/^a{42}-[0-9a-f]{8}$/);
    // "<job>-" plus the 5 random characters fits the 63 of a pod name uncut (generateName keeps 58).
    expect(`${jobNameFor('b'.repeat(253))}-`.length).toBeLessThanOrEqual(58);
  });
});

describe('downloadLabelValue and downloadNameOf', () => {
  it('keep a name of up to 63 characters as the label, and a hash of a longer one', () => {
    expect(downloadLabelValue('a'.repeat(63))).toBe('a'.repeat(63));
    const long = `${'x'.repeat(100)}-long`;
    expect(downloadLabelValue(long)).toMatch(/^x{54}-[0-9a-f]{8}$/);
    expect(downloadLabelValue(long)).not.toBe(downloadLabelValue(`${long}er`));
  });

  it("find a long-named download's Job by its annotation, and a label-only one by its label", () => {
    const long = `${'x'.repeat(100)}-long`;
    const job = desiredJob(download(long), testConfig);
    expect(job.metadata?.labels?.['vdl.dev/download']).toHaveLength(63);
    expect(downloadNameOf(job)).toBe(long);
    expect(downloadNameOf(job.spec?.template ?? {})).toBe(long);
    expect(downloadNameOf({ metadata: { labels: { 'vdl.dev/download': 'old' } } })).toBe('old');
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
    expect(pod?.volumes?.find((v) => v.name === 'work')?.emptyDir?.sizeLimit).toBe('8576Mi');
  });

  it('mounts no default token; only the projected one for progress', () => {
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.serviceAccountName).toBe(testConfig.downloaderServiceAccount);
    const projected = pod?.volumes?.find((v) => v.name === 'vdl-token')?.projected?.sources;
    expect(projected?.[0]?.serviceAccountToken?.path).toBe('token');
  });

  it('passes the spec and its own upload plan as a file, and no storage credentials at all', () => {
    expect(JSON.parse(env.VDL_SPEC as string)).toMatchObject({ url: 'https://example.com/v', retries: 4 });
    expect(container?.resources).toMatchObject({ requests: testConfig.requests, limits: testConfig.limits });
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

  describe("with the cluster's download pod template", () => {
    // What lands in the pod spec as it is.
    const placement = {
      nodeSelector: { 'vdl.example.com/downloads': 'true' },
      tolerations: [{ key: 'downloads', operator: 'Exists' as const, effect: 'NoSchedule' as const }],
      affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' as const },
      ],
      priorityClassName: 'batch-low',
      imagePullSecrets: [{ name: 'regcred' }],
    };
    const placed = desiredJob(download('clip'), {
      ...testConfig,
      downloadPodTemplate: {
        ...placement,
        imagePullPolicy: 'Always',
        // The operator's own labels and its name annotation must win over these.
        podLabels: {
          'cost-center': 'video',
          'vdl.dev/download': 'other',
          'app.kubernetes.io/managed-by': 'someone',
          'app.kubernetes.io/component': 'web',
        },
        podAnnotations: { 'example.com/owner': 'media', 'vdl.dev/download-name': 'other' },
      },
    });
    const placedPod = placed.spec?.template;

    it('puts its scheduling and pull settings on every download pod', () => {
      expect(placedPod?.spec).toMatchObject(placement);
      expect(placedPod?.spec?.containers[0]?.imagePullPolicy).toBe('Always');
      expect(placedPod?.metadata?.labels?.['cost-center']).toBe('video');
      expect(placedPod?.metadata?.annotations?.['example.com/owner']).toBe('media');
    });

    it("keeps the operator's labels and name annotation, which its selectors and NetworkPolicies rely on", () => {
      expect(placedPod?.metadata?.labels).toMatchObject({
        'vdl.dev/download': 'clip',
        'app.kubernetes.io/managed-by': 'vdl-operator',
        'app.kubernetes.io/component': 'downloader',
      });
      expect(placedPod?.metadata?.annotations?.['vdl.dev/download-name']).toBe('clip');
      // The Job's own labels (its selector for the operator's caches) carry none of the template's.
      expect(placed.metadata?.labels?.['cost-center']).toBeUndefined();
    });

    it('changes nothing that confines the pod', () => {
      const rest = Object.fromEntries(
        Object.entries(placedPod?.spec ?? {}).filter(([key]) => !(key in placement)),
      );
      const plain = desiredJob(download('clip'), testConfig).spec?.template.spec;
      const unpolicied = (containers: V1Container[] = []) =>
        containers.map(({ imagePullPolicy: _, ...container }) => container);
      expect(plain?.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
      expect({ ...rest, containers: unpolicied(rest.containers as V1Container[]) }).toEqual({
        ...plain,
        containers: unpolicied(plain?.containers),
      });
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

  it("sizes the disk from the operator's file-size cap when the spec asks for more", () => {
    const asked = desiredJob(download('d', { limits: { maxFileSize: '100Gi' } }), {
      ...testConfig,
      defaultMaxFileSize: '1Gi',
    });
    const capped = desiredJob(download('d', { limits: { maxFileSize: '1Gi' } }), testConfig);
    const limitOf = (job: typeof asked) =>
      job.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'VDL_WORK_DIR_LIMIT')?.value;
    expect(limitOf(asked)).toBe(limitOf(capped));
    expect(limitOf(asked)).toBe(String(2304 * 2 ** 20));
  });

  // maxFileSize, the operator's cap → the guard's bound, the work emptyDir, the container's ephemeral-storage.
  it.each([
    ['1Gi', '9Gi', 2304, '2432Mi', '2752Mi'],
    ['4Gi', '9Gi', 8448, '8576Mi', '8896Mi'],
    ['100Mi', '9Gi', 456, '584Mi', '904Mi'],
    // A limit above what the cap allows: the cap wins, less the guard's headroom.
    ['100Gi', '9Gi', 9088, '9216Mi', '9536Mi'],
  ])(
    'gives a download of at most %s (cap %s) disk for the file twice over',
    (max, cap, guardMi, workDir, ephemeral) => {
      // The operator's file-size cap is raised out of the way: this is about the disk cap.
      const sized = desiredJob(download('d', { limits: { maxFileSize: max } }), {
        ...testConfig,
        defaultMaxFileSize: '1Ti',
        workDirSizeLimit: cap,
      });
      const spec = sized.spec?.template.spec;
      const downloader = spec?.containers[0];
      expect(downloader?.env?.find((e) => e.name === 'VDL_WORK_DIR_LIMIT')?.value).toBe(
        String(guardMi * 2 ** 20),
      );
      expect(spec?.volumes?.find((v) => v.name === 'work')?.emptyDir?.sizeLimit).toBe(workDir);
      expect(downloader?.resources?.requests?.['ephemeral-storage']).toBe(ephemeral);
      expect(downloader?.resources?.limits?.['ephemeral-storage']).toBe(ephemeral);
    },
  );

  it("sizes the disk from the operator's default maximum when the spec sets none", () => {
    const sized = desiredJob(download('d'), { ...testConfig, defaultMaxFileSize: '1Gi' });
    expect(sized.spec?.template.spec?.containers[0]?.resources?.limits?.['ephemeral-storage']).toBe('2752Mi');
  });
});
