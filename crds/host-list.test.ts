import { describe, expect, it } from 'vitest';
import { hostList, hostRefusal } from './host-list.ts';

describe('hostRefusal', () => {
  const lists = {
    allowHosts: hostList(' Example.com, videos.example. '),
    denyHosts: hostList('bad.example.com'),
  };
  it.each([
    ['example.com', undefined],
    ['EXAMPLE.COM.', undefined],
    ['cdn.example.com', undefined],
    ['videos.example', undefined],
    ['notexample.com', 'host notexample.com is not in the allowed list'],
    ['127.0.0.1', 'host 127.0.0.1 is not in the allowed list'],
    ['[::1]', 'host ::1 is not in the allowed list'],
    ['bad.example.com', 'host bad.example.com is not allowed'],
    ['x.bad.example.com', 'host x.bad.example.com is not allowed'],
  ])('%s: %s', (host, refusal) => {
    expect(hostRefusal(host, lists)).toBe(refusal);
  });

  it('lets every host through when both lists are empty', () => {
    expect(hostRefusal('anything.example', { allowHosts: [], denyHosts: [] })).toBeUndefined();
  });
});
