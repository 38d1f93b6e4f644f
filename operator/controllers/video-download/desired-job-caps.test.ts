// The operator's limits are caps on what a spec may ask, and its host lists
// reach the download pod: table tests of the Job the operator wants.
import { describe, expect, it } from 'vitest';
import { cappedQuantity, desiredJob } from './desired-job.ts';
import { download, testConfig } from './test-fixtures.ts';

const envOf = (job: ReturnType<typeof desiredJob>) =>
  Object.fromEntries((job.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));

describe('cappedQuantity', () => {
  it.each([
    ['the spec below the cap', '500Mi', '4Gi', '500Mi'],
    ['the spec above the cap', '1000Gi', '4Gi', '4Gi'],
    ['units compared as bytes (5G is more than 4Gi)', '5G', '4Gi', '4Gi'],
    ['units compared as bytes (4G is less than 4Gi)', '4G', '4Gi', '4G'],
    ['equal', '4Gi', '4Gi', '4Gi'],
    ['no spec value', undefined, '4Gi', '4Gi'],
    ['no cap', '999Ti', undefined, '999Ti'],
    ['neither', undefined, undefined, undefined],
    ['a stored value that is no quantity', '9'.repeat(400), '4Gi', '4Gi'],
  ])('%s: %s capped by %s is %s', (_what, wanted, cap, expected) => {
    expect(cappedQuantity(wanted, cap)).toBe(expected);
  });
});

describe('desiredJob caps', () => {
  const capped = { ...testConfig, defaultMaxFileSize: '1Gi', defaultRateLimit: '5Mi' };
  it.each([
    ['asks for more than the caps', { maxFileSize: '100Ti', rateLimit: '999Ti' }, '1Gi', '5Mi'],
    ['asks for less', { maxFileSize: '10Mi', rateLimit: '500K' }, '10Mi', '500K'],
    ['asks nothing', undefined, '1Gi', '5Mi'],
  ])('a spec that %s (%j) gets VDL_MAX_FILE_SIZE %s and VDL_RATE_LIMIT %s', (_what, limits, size, rate) => {
    const env = envOf(desiredJob(download('c', limits ? { limits } : {}), capped));
    expect(env.VDL_MAX_FILE_SIZE).toBe(size);
    expect(env.VDL_RATE_LIMIT).toBe(rate);
  });

  it('passes no rate limit when neither the spec nor the operator sets one', () => {
    expect(envOf(desiredJob(download('c'), testConfig)).VDL_RATE_LIMIT).toBeUndefined();
  });

  it("hands the operator's host lists to the pod's egress proxy, and nothing when they are empty", () => {
    const listed = { ...testConfig, allowHosts: 'Example.com, videos.example', denyHosts: 'bad.example' };
    expect(envOf(desiredJob(download('c'), listed))).toMatchObject({
      VDL_ALLOW_HOSTS: 'example.com,videos.example',
      VDL_DENY_HOSTS: 'bad.example',
    });
    const env = envOf(desiredJob(download('c'), testConfig));
    expect(env.VDL_ALLOW_HOSTS).toBeUndefined();
    expect(env.VDL_DENY_HOSTS).toBeUndefined();
  });
});
