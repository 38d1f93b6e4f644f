import { describe, expect, it } from 'vitest';
import { envVariables } from '../lib/config/env-config.ts';
import { ApiConfig, loadApiConfig } from './config.ts';

describe('loadApiConfig', () => {
  it('works with no environment at all, for make dev', () => {
    expect(loadApiConfig({})).toMatchObject({ port: 8000, noAuth: false, presignSeconds: 900 });
  });

  it.each([
    ['true', true],
    ['1', false],
    ['false', false],
  ])('turns authentication off only for VDL_API_NO_AUTH=true (%s)', (value, noAuth) => {
    expect(loadApiConfig({ VDL_API_NO_AUTH: value }).noAuth).toBe(noAuth);
  });

  it('refuses bad values with a message naming the variable', () => {
    expect(() => loadApiConfig({ VDL_API_PORT: '70000' })).toThrow(
      /invalid API configuration: VDL_API_PORT: /,
    );
  });

  it('reads VDL_API_ and each field in upper snake case', () => {
    const names = envVariables(ApiConfig.shape, 'VDL_API_').map((variable) => variable.name);
    expect(names).toContain('VDL_API_MAX_IDS_PER_SOCKET');
    expect(names).toContain('VDL_API_S3_PUBLIC_ENDPOINT');
    expect(loadApiConfig({ VDL_API_MAX_LIVE_CONNECTIONS_PER_USER: '3' }).maxLiveConnectionsPerUser).toBe(3);
  });
});
