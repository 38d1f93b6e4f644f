import { describe, expect, it } from 'vitest';
import { checkedAddress, RefusedTarget, send } from './sender.ts';

const policy = { allowed: new Set(['127.0.0.1:8099']) };
const resolver = (answers: Record<string, string[]>) => async (host: string) => answers[host] ?? [];

describe('the address a webhook connects to', () => {
  const resolve = resolver({
    'hooks.example.com': ['93.184.216.34'],
    'inside.example.com': ['10.0.0.7'],
    'mixed.example.com': ['93.184.216.34', '169.254.169.254'],
  });
  it.each([
    ['a public name: its checked address', 'https://hooks.example.com/x', '93.184.216.34'],
    ['a public literal', 'http://93.184.216.34:8080/x', '93.184.216.34'],
    ['an allowed internal ip:port (a test receiver)', 'http://127.0.0.1:8099/hook', '127.0.0.1'],
  ])('%s', async (_case, url, address) => {
    expect(await checkedAddress(new URL(url), policy, resolve)).toBe(address);
  });

  it.each([
    ['loopback', 'http://127.0.0.1/hook', '127.0.0.1 is a loopback address'],
    ['an allowed address on another port', 'http://127.0.0.1:8098/hook', 'loopback'],
    ['a name that resolves inside', 'https://inside.example.com/x', '10.0.0.7 is a private address'],
    ['one internal answer among public ones (rebinding)', 'https://mixed.example.com/x', 'linkLocal'],
    ['IPv4-mapped IPv6', 'http://[::ffff:127.0.0.1]/x', 'loopback'],
    ['IPv6 loopback', 'http://[::1]:8099/x', 'loopback'],
  ])('refuses %s', async (_case, url, why) => {
    const refused = checkedAddress(new URL(url), policy, resolve);
    await expect(refused).rejects.toBeInstanceOf(RefusedTarget);
    await expect(refused).rejects.toThrow(why);
  });

  it('fails, but not for good, for a name without an address', async () => {
    const failed = checkedAddress(new URL('https://nowhere.example.com/'), policy, resolve);
    await expect(failed).rejects.toThrow('has no address');
    await expect(failed).rejects.not.toBeInstanceOf(RefusedTarget);
  });

  it('makes a refused address a permanent failed attempt, without connecting', async () => {
    const post = {
      url: 'http://10.1.2.3/x',
      headers: { 'webhook-id': 'a', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' },
      body: '{}',
    };
    expect(await send(post, policy, 1000)).toEqual({
      delivered: false,
      error: '10.1.2.3 refused: 10.1.2.3 is a private address',
      permanent: true,
    });
  });
});
