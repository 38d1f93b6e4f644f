// The two sides of the operator↔downloader contract against each other: the
// environment the operator renders into a Job is the one the downloader reads.
import { describe, expect, it } from 'vitest';
import { podPaths } from '../../crds/downloader-env.ts';
import { VideoDownloadSpec } from '../../crds/video-download.ts';
import { downloaderEnv } from '../../images/downloader/config.ts';
import { desiredJob } from '../../operator/controllers/video-download/desired-job.ts';
import { download, testConfig } from '../../operator/controllers/video-download/test-fixtures.ts';

function renderedEnv(job: ReturnType<typeof desiredJob>): Record<string, string | undefined> {
  const env = job.spec?.template.spec?.containers[0]?.env ?? [];
  return Object.fromEntries(env.map((variable) => [variable.name, variable.value]));
}

describe("the operator's rendered env, read by the downloader", () => {
  it.each([
    ['a plain download', download('clip'), testConfig],
    [
      'cookies, a rate limit and host lists',
      download('c', {
        cookies: { secretName: 'vdl-cookies-site', key: 'jar' },
        limits: { rateLimit: '500K', maxFileSize: '1Gi' },
      }),
      { ...testConfig, allowHosts: 'a.example', denyHosts: 'b.example', defaultRateLimit: '5Mi' },
    ],
  ])('round-trips for %s', (_case, resource, config) => {
    const env = renderedEnv(desiredJob(resource, config));
    const parsed = downloaderEnv(env);
    // Every variable the operator renders is one the downloader knows, with the value rendered.
    for (const [name, value] of Object.entries(env)) {
      if (name === 'HOME') continue;
      expect(parsed, name).toHaveProperty(name, name === 'VDL_UPLOAD_RETRIES' ? Number(value) : value);
    }
    expect(VideoDownloadSpec.parse(JSON.parse(parsed.VDL_SPEC))).toEqual(resource.spec);
    expect(parsed.VDL_MAX_FILE_SIZE).toBe(resource.spec.limits?.maxFileSize ?? config.defaultMaxFileSize);
  });
});

describe("the downloader's default paths", () => {
  it('are the files the operator mounts, so a variable left unset still finds them', () => {
    const container = desiredJob(download('clip'), testConfig).spec?.template.spec?.containers[0];
    const mounts = (container?.volumeMounts ?? []).map((mount) => mount.mountPath);
    const defaults = downloaderEnv({
      VDL_DOWNLOAD_NAME: 'clip',
      VDL_DOWNLOAD_NAMESPACE: 'team',
      VDL_SPEC: '{}',
    });
    for (const file of [defaults.VDL_TOKEN_FILE, defaults.VDL_CA_FILE, defaults.VDL_UPLOAD_PLAN_FILE])
      expect(mounts, file).toContain(file.slice(0, file.lastIndexOf('/')));
    expect(mounts).toContain(defaults.VDL_WORK_DIR);
    expect(container?.terminationMessagePath).toBe(defaults.VDL_TERMINATION_LOG);
    expect(renderedEnv(desiredJob(download('clip'), testConfig)).VDL_WORK_DIR).toBe(podPaths.workDir);
  });
});
