import { describe, expect, it } from 'vitest';
import { parseAllowList, refusal } from './address-policy.ts';

const policy = { allowed: parseAllowList('127.0.0.1:8080, [::1]:9000') };

describe('refusal', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '169.254.0.1',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '192.0.2.1',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    'fc00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '::7f00:1',
    '::a9fe:a9fe',
    '::808:808',
    '64:ff9b::a00:1',
    '2002:a00:1::',
    'ff02::1',
  ])('refuses %s', (address) => {
    expect(refusal(address, 80, policy)).toMatch(/is a/);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows public %s',
    (address) => {
      expect(refusal(address, 443, policy)).toBeUndefined();
    },
  );

  it('allows listed internal endpoints, on their port only', () => {
    expect(refusal('127.0.0.1', 8080, policy)).toBeUndefined();
    expect(refusal('::1', 9000, policy)).toBeUndefined();
    expect(refusal('127.0.0.1', 8081, policy)).toMatch(/loopback/);
    expect(refusal('::ffff:127.0.0.1', 8080, policy)).toBeUndefined();
  });

  it('refuses what is not an address', () => {
    expect(refusal('example.com', 80, policy)).toMatch(/not an IP address/);
  });
});
