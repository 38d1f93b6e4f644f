import { describe, expect, it } from 'vitest';
import { apiServerRefusal } from './api-server-refusal.ts';

// As kube-apiserver 1.34 answers a create that the CRD's schema refuses.
const status = JSON.stringify({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message:
    'VideoDownload.vdl.dev "dl-1" is invalid: spec.url: Invalid value: "string": url must be an http or https URL',
  reason: 'Invalid',
  details: {
    name: 'dl-1',
    group: 'vdl.dev',
    kind: 'VideoDownload',
    causes: [
      { reason: 'FieldValueInvalid', message: 'Invalid value: "string": url must be ...', field: 'spec.url' },
      {
        reason: 'FieldValueTooLong',
        message: 'Too long: may not be more than 200 bytes',
        field: 'spec.output.filenameTemplate',
      },
    ],
  },
  code: 422,
});

describe('apiServerRefusal', () => {
  it('names the fields in our words and passes none of the Status on', () => {
    const detail = apiServerRefusal(status);
    expect(detail).toBe(
      'the cluster refused the download: output.filenameTemplate is too long; url is invalid',
    );
    for (const internal of ['Status', 'VideoDownload.vdl.dev', 'Invalid value', 'dl-1', '"string"'])
      expect(detail).not.toContain(internal);
  });

  it.each([undefined, '', 'not json', '{"kind":"Status"}', { details: { causes: 'x' } }])(
    'says only that the cluster refused when the body is %j',
    (body) => {
      expect(apiServerRefusal(body)).toBe('the cluster refused the download');
    },
  );
});
