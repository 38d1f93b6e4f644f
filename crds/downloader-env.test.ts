import { describe, expect, it } from 'vitest';
import { toEnv } from './downloader-env.ts';

describe('toEnv', () => {
  it('renders the variables in the order given and leaves unset ones out', () => {
    expect(toEnv({ VDL_DOWNLOAD_NAME: 'a', VDL_RATE_LIMIT: undefined, VDL_SPEC: '{}' })).toEqual([
      { name: 'VDL_DOWNLOAD_NAME', value: 'a' },
      { name: 'VDL_SPEC', value: '{}' },
    ]);
  });
});
