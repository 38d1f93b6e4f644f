import { describe, expect, it } from 'vitest';
import { withoutCookies } from './info-json.ts';

describe('withoutCookies', () => {
  it('drops cookie fields and Cookie headers at any depth, keeps the rest', () => {
    const info = {
      title: 'T',
      cookies: 'session=secret; Domain=example.com',
      http_headers: { 'User-Agent': 'x', Cookie: 'session=secret' },
      formats: [{ format_id: 'a', cookies: 'session=secret', url: 'https://cdn/a' }],
      requested_formats: [{ http_headers: { cookie: 'session=secret' }, filesize: 3 }],
    };
    const cleaned = withoutCookies(info);
    expect(JSON.stringify(cleaned)).not.toContain('secret');
    expect(cleaned).toEqual({
      title: 'T',
      http_headers: { 'User-Agent': 'x' },
      formats: [{ format_id: 'a', url: 'https://cdn/a' }],
      requested_formats: [{ http_headers: {}, filesize: 3 }],
    });
  });
});
