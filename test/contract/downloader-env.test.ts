// The two sides of the operator↔downloader contract against each other: the
// environment the operator renders into a Job is the one the downloader reads.
import { describe, expect, it } from 'vitest';
import { fromEnv } from '../../crds/downloader-env.ts';
import { VideoDownloadSpec } from '../../crds/video-download.ts';
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
    const parsed = fromEnv(env);
    // Every variable the operator renders is one the downloader knows, with the value rendered.
    for (const [name, value] of Object.entries(env)) {
      if (name === 'HOME') continue;
      expect(parsed, name).toHaveProperty(name, name === 'VDL_UPLOAD_RETRIES' ? Number(value) : value);
    }
    expect(VideoDownloadSpec.parse(JSON.parse(parsed.VDL_SPEC))).toEqual(resource.spec);
    expect(parsed.VDL_MAX_FILE_SIZE).toBe(resource.spec.limits?.maxFileSize ?? config.defaultMaxFileSize);
  });
});
