import { describe, expect, it } from 'vitest';
import { DownloadRequest, kubectlOnlyRefusal } from './schemas.ts';

describe('what only kubectl users may set', () => {
  it.each([
    [{ url: 'https://v.example/', storage: { bucket: 'someone-elses' } }, 'storage'],
    [{ url: 'https://v.example/', storage: { deletionPolicy: 'Retain' } }, 'storage'],
    [{ url: 'https://v.example/', storage: { keyPrefix: '../' } }, 'storage'],
    [{ url: 'https://v.example/', storage: {} }, 'storage'],
    [{ url: 'https://v.example/', cookies: { secretName: 'vdl-cookies-bob' } }, 'cookies'],
  ])('refuses %j, naming %s', (body, field) => {
    expect(kubectlOnlyRefusal(body)).toMatch(new RegExp(`^${field}: only kubectl users may set ${field}`));
    expect(DownloadRequest.safeParse(body).success).toBe(false);
  });

  it.each([{ url: 'https://v.example/' }, null, 'text', [{ storage: {} }]])(
    'lets %j through to the schema',
    (body) => {
      expect(kubectlOnlyRefusal(body)).toBeUndefined();
    },
  );
});
