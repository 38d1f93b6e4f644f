import { describe, expect, it } from 'vitest';
import { type DownloaderEnvValues, toEnvRecord } from '../../crds/downloader-env.ts';
import { downloaderEnv, inClusterApiServer, loadDownloaderConfig } from './config.ts';

const rendered: DownloaderEnvValues = {
  VDL_DOWNLOAD_NAME: 'clip',
  VDL_DOWNLOAD_NAMESPACE: 'team',
  VDL_SPEC: '{"url":"https://example.com/v"}',
  VDL_MAX_FILE_SIZE: '1Gi',
  VDL_WORK_DIR_LIMIT: '2415919104',
  VDL_RATE_LIMIT: '500K',
  VDL_ALLOW_HOSTS: 'example.com',
  VDL_UPLOAD_RETRIES: '2',
};

describe('downloaderEnv', () => {
  it('reads back what toEnv rendered, with the defaults for what it left out', () => {
    const parsed = downloaderEnv(toEnvRecord(rendered));
    expect(parsed).toMatchObject({ ...rendered, VDL_UPLOAD_RETRIES: 2 });
    expect(parsed.VDL_TOKEN_FILE).toBe('/var/run/secrets/vdl/token/token');
    expect(parsed.VDL_WORK_DIR).toBe('/work');
    expect(parsed.VDL_DENY_HOSTS).toBeUndefined();
  });

  it.each([
    ['a missing name', { VDL_DOWNLOAD_NAME: undefined }, 'VDL_DOWNLOAD_NAME'],
    ['a size that is no quantity', { VDL_MAX_FILE_SIZE: '4 GB' }, 'VDL_MAX_FILE_SIZE'],
    ['a rate that is no quantity', { VDL_RATE_LIMIT: '1e9' }, 'VDL_RATE_LIMIT'],
    ['too many upload retries', { VDL_UPLOAD_RETRIES: '11' }, 'VDL_UPLOAD_RETRIES'],
  ])('refuses %s, naming the variable', (_case, change, variable) => {
    expect(() => downloaderEnv(toEnvRecord({ ...rendered, ...change }))).toThrow(variable);
  });
});

describe('loadDownloaderConfig', () => {
  it.each([
    ['a spec that is no JSON', { VDL_SPEC: '{url' }, /VDL_SPEC/],
    ['a spec that is no download', { VDL_SPEC: '{"url":42}' }, /VDL_SPEC[\s\S]*url/],
    ['an empty name, as unset', { VDL_DOWNLOAD_NAME: '' }, /VDL_DOWNLOAD_NAME/],
  ])('refuses %s, naming the variable', (_case, change, message) => {
    expect(() => loadDownloaderConfig(toEnvRecord({ ...rendered, ...change }))).toThrow(message);
  });
});

describe('inClusterApiServer', () => {
  it('makes a URL of the service environment, with an IPv6 address in brackets', () => {
    expect(inClusterApiServer('10.96.0.1', '443')).toBe('https://10.96.0.1:443');
    expect(inClusterApiServer('fd00:10:96::1', '443')).toBe('https://[fd00:10:96::1]:443');
    expect(new URL(inClusterApiServer('fd00:10:96::1')).hostname).toBe('[fd00:10:96::1]');
  });
});
