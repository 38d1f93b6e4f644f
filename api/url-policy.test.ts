import { describe, expect, it } from 'vitest';
import { type UrlPolicy, urlRefusal } from './url-policy.ts';

const names: Record<string, string[]> = {
  'internal.example': ['10.1.2.3'],
  'rebind.example': ['93.184.216.34', '127.0.0.1'],
  'public.example': ['93.184.216.34'],
};
const policy: UrlPolicy = {
  allowed: new Set(['127.0.0.1:8080']),
  maxLength: 200,
  allowHosts: [],
  denyHosts: ['blocked.example'],
  resolve: async (host) => names[host] ?? (host === 'localhost' ? ['127.0.0.1', '::1'] : []),
};

describe('urlRefusal', () => {
  it.each([
    'https://public.example/watch?v=1',
    'http://unknown-name.example/v.mp4',
    'http://127.0.0.1:8080/allowed-fixture.mp4',
    'https://93.184.216.34/v',
  ])('accepts %s', async (url) => {
    expect(await urlRefusal(url, policy)).toBeUndefined();
  });

  it.each([
    ['ftp://public.example/v', /scheme ftp: is not allowed/],
    ['file:///etc/passwd', /scheme file:/],
    ['javascript:alert(1)', /scheme javascript:/],
    ['gopher://127.0.0.1:6379/', /scheme gopher:/],
    ['not a url', /not a valid URL/],
    [`https://public.example/${'a'.repeat(300)}`, /longer than 200/],
    ['http://user:pass@public.example/', /credentials/],
    ['http://public.example@127.0.0.1/', /credentials/],
    ['http://127.0.0.1/', /loopback/],
    ['http://127.0.0.1:8081/', /loopback/],
    ['http://2130706433/', /loopback/],
    ['http://0x7f000001/', /loopback/],
    ['http://0177.0.0.1/', /loopback/],
    ['http://127.1/', /loopback/],
    ['http://[::1]/', /loopback/],
    ['http://[::ffff:127.0.0.1]/', /loopback/],
    ['http://[::ffff:7f00:1]/', /loopback/],
    ['http://169.254.169.254/latest/meta-data/', /linkLocal/],
    ['http://0xa9fea9fe/', /linkLocal/],
    ['http://[fd00:ec2::254]/', /uniqueLocal/],
    ['http://10.0.0.1/', /private/],
    ['http://172.16.0.1/', /private/],
    ['http://192.168.0.1/', /private/],
    ['http://100.64.1.1/', /carrierGradeNat/],
    ['http://0.0.0.0/', /unspecified/],
    ['http://localhost/', /loopback/],
    ['http://LOCALHOST./', /loopback|not allowed/],
    ['http://internal.example/', /private/],
    ['http://rebind.example/', /loopback/],
    ['http://blocked.example/', /not allowed/],
    ['http://sub.blocked.example/', /not allowed/],
  ])('refuses %s', async (url, message) => {
    expect(await urlRefusal(url, policy)).toMatch(message);
  });

  it('admits only listed hosts when an allow list is set', async () => {
    const strict = { ...policy, allowHosts: ['public.example'] };
    expect(await urlRefusal('https://www.public.example/v', strict)).toBeUndefined();
    expect(await urlRefusal('https://elsewhere.example/v', strict)).toMatch(/not in the allowed list/);
  });
});
