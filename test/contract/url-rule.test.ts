// The CRD's URL rule against the API's: every URL the zod rule refuses, the
// CRD's pattern refuses; every URL the API stores (the canonical form of one
// it accepts), the pattern accepts. test/integration/crd-url.test.ts runs the
// same table through the real API server (RE2, CEL), which must agree.
import { describe, expect, it } from 'vitest';
import { urlCases } from '../support/url-cases.ts';

const { accepted, apiStores, crdAccepts, oddUrls, refused, rewritten } = urlCases;

describe('the CRD URL rule and the API URL rule', () => {
  it.each(refused)('both refuse %j', (url) => {
    expect(apiStores(url)).toBeUndefined();
    expect(crdAccepts(url)).toBe(false);
  });

  it.each(accepted)('both accept %j as the API stores it', (url) => {
    const stored = apiStores(url);
    expect(stored).toBeTypeOf('string');
    expect(crdAccepts(stored as string)).toBe(true);
  });

  it.each(rewritten)('refuses %j as written, which the API rewrites, and accepts what it stores', (url) => {
    const stored = apiStores(url);
    expect(stored).toBeTypeOf('string');
    expect(crdAccepts(url)).toBe(false);
    expect(crdAccepts(stored as string)).toBe(true);
  });

  it('agrees on thousands of odd hosts and ports: nothing the API refuses passes, everything it stores does', () => {
    const wrong = oddUrls(5000, 22).filter((url) => {
      const stored = apiStores(url);
      return stored === undefined ? crdAccepts(url) : !crdAccepts(stored);
    });
    expect(wrong).toEqual([]);
  });
});
