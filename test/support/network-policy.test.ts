import { describe, expect, it } from 'vitest';
import { allowed, type Connection, inCidr, type NetworkPolicy, type Pod, selects } from './network-policy.ts';

const pod = (name: string, labels: Record<string, string>, namespace = 'app', ip = '10.1.0.1'): Pod => ({
  name,
  namespace,
  namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
  labels,
  ip,
  ports: { http: 8000 },
});

const web = pod('web', { role: 'web' }, 'app', '10.1.0.2');
const db = pod('db', { role: 'db' }, 'app', '10.1.0.3');
const other = pod('other', { role: 'web' }, 'elsewhere', '10.2.0.1');

function policy(name: string, spec: NetworkPolicy['spec'], namespace = 'app'): NetworkPolicy {
  return { kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

describe('selects', () => {
  it.each([
    [{}, { a: '1' }, true],
    [{ matchLabels: { a: '1' } }, { a: '1', b: '2' }, true],
    [{ matchLabels: { a: '1' } }, { a: '2' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'In' as const, values: ['1', '2'] }] }, { a: '2' }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'In' as const, values: ['1'] }] }, {}, false],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn' as const, values: ['1'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists' as const }] }, { a: '' }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' as const }] }, { a: '' }, false],
  ])('%j on %j is %s', (selector, labels, expected) => {
    expect(selects(selector, labels)).toBe(expected);
  });
});

describe('inCidr', () => {
  it.each([
    ['10.1.2.3', '10.0.0.0/8', true],
    ['11.1.2.3', '10.0.0.0/8', false],
    ['2001:db8::1', '2001:db8::/32', true],
    ['10.1.2.3', '::/0', false],
    ['2001:db8::1', '0.0.0.0/0', false],
  ])('%s in %s is %s', (address, cidr, expected) => {
    expect(inCidr(address, cidr)).toBe(expected);
  });
});

describe('NetworkPolicy evaluation', () => {
  const dbIngress = policy('db', {
    podSelector: { matchLabels: { role: 'db' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { role: 'web' } } }], ports: [{ port: 5432 }] }],
  });
  const webEgress = policy('web', {
    podSelector: { matchLabels: { role: 'web' } },
    policyTypes: ['Egress'],
    egress: [
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ port: 443 }] },
      { to: [{ podSelector: { matchLabels: { role: 'db' } } }] },
    ],
  });
  const cases: Array<[string, NetworkPolicy[], Connection, boolean]> = [
    ['no policy: everything is open', [], { from: web, to: db, port: 1 }, true],
    ['a selected pod admits only its rules', [dbIngress], { from: web, to: db, port: 5432 }, true],
    ['... on their ports only', [dbIngress], { from: web, to: db, port: 22 }, false],
    ['... from their peers only', [dbIngress], { from: db, to: db, port: 5432 }, false],
    ['... in the policy namespace only', [dbIngress], { from: other, to: db, port: 5432 }, false],
    [
      'a namespaceSelector widens a podSelector',
      [
        policy('db', {
          podSelector: { matchLabels: { role: 'db' } },
          ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: 'web' } } }] }],
        }),
      ],
      { from: other, to: db, port: 5432 },
      true,
    ],
    [
      'egress to an address in the block',
      [webEgress],
      { from: web, to: { ip: '93.184.216.34' }, port: 443 },
      true,
    ],
    ['egress to an excepted address', [webEgress], { from: web, to: { ip: '10.9.9.9' }, port: 443 }, false],
    ['egress on another port', [webEgress], { from: web, to: { ip: '93.184.216.34' }, port: 80 }, false],
    ['egress to a selected pod, any port', [webEgress], { from: web, to: db, port: 9 }, true],
    [
      'egress by UDP where the rule says TCP',
      [webEgress],
      { from: web, to: { ip: '93.184.216.34' }, port: 443, protocol: 'UDP' },
      false,
    ],
    ['both ends must allow', [webEgress, dbIngress], { from: web, to: db, port: 9 }, false],
    [
      'empty ingress denies everything',
      [policy('deny', { podSelector: {}, policyTypes: ['Ingress'], ingress: [] })],
      { from: web, to: db, port: 5432 },
      false,
    ],
    [
      'a rule without peers admits every source on its ports',
      [policy('open', { podSelector: {}, ingress: [{ ports: [{ port: 'http' }] }] })],
      { from: other, to: db, port: 8000 },
      true,
    ],
    [
      'named ports resolve against the target pod',
      [policy('open', { podSelector: {}, ingress: [{ ports: [{ port: 'http' }] }] })],
      { from: other, to: db, port: 8001 },
      false,
    ],
    [
      'endPort opens a range',
      [policy('range', { podSelector: {}, ingress: [{ ports: [{ port: 8000, endPort: 8010 }] }] })],
      { from: web, to: db, port: 8005 },
      true,
    ],
    [
      'policyTypes default to Ingress: a policy with only ingress leaves egress open',
      [policy('ingress-only', { podSelector: {}, ingress: [] })],
      { from: web, to: { ip: '10.9.9.9' }, port: 1 },
      true,
    ],
    [
      'rules of several policies add up',
      [
        dbIngress,
        policy('db-ssh', {
          podSelector: { matchLabels: { role: 'db' } },
          ingress: [{ ports: [{ port: 22 }] }],
        }),
      ],
      { from: other, to: db, port: 22 },
      true,
    ],
  ];
  it.each(cases)('%s', (_name, policies, connection, expected) => {
    expect(allowed(policies, connection)).toBe(expected);
  });
});
