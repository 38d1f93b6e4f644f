import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envFlag, envInteger, envName, envVariables, parseEnv } from './env-config.ts';

const Example = z.object({
  workers: envInteger.min(1).default(4),
  s3AccessKey: z.string().optional(),
  leaderElection: envFlag('true', '1').default(true),
  requests: z.object({ cpu: z.string().default('250m'), memory: z.string().default('256Mi') }).prefault({}),
});

describe('envName', () => {
  it.each([
    ['VDL_', ['workers'], 'VDL_WORKERS'],
    ['VDL_', ['s3AccessKey'], 'VDL_S3_ACCESS_KEY'],
    ['VDL_API_', ['maxIdsPerSocket'], 'VDL_API_MAX_IDS_PER_SOCKET'],
    ['VDL_', ['requests', 'cpu'], 'VDL_REQUESTS_CPU'],
    ['', ['VDL_SPEC'], 'VDL_SPEC'],
  ])('%s + %j is %s', (prefix, path, name) => {
    expect(envName(prefix, path)).toBe(name);
  });
});

describe('parseEnv', () => {
  const parse = (env: Record<string, string>, overrides = {}) =>
    parseEnv(Example, env, { program: 'example', prefix: 'VDL_', overrides });

  it('lists one variable a field, and one a member of an object field', () => {
    expect(envVariables(Example.shape, 'VDL_').map((variable) => variable.name)).toEqual([
      'VDL_WORKERS',
      'VDL_S3_ACCESS_KEY',
      'VDL_LEADER_ELECTION',
      'VDL_REQUESTS_CPU',
      'VDL_REQUESTS_MEMORY',
    ]);
  });

  it.each([
    [
      'nothing: the defaults',
      {},
      { workers: 4, leaderElection: true, requests: { cpu: '250m', memory: '256Mi' } },
    ],
    ['a number', { VDL_WORKERS: '8' }, { workers: 8 }],
    ['an empty variable, as unset', { VDL_WORKERS: '', VDL_S3_ACCESS_KEY: '' }, { workers: 4 }],
    ['a flag by one of its words', { VDL_LEADER_ELECTION: '1' }, { leaderElection: true }],
    ['a flag by any other text', { VDL_LEADER_ELECTION: 'no' }, { leaderElection: false }],
    ['one member of an object', { VDL_REQUESTS_CPU: '1' }, { requests: { cpu: '1', memory: '256Mi' } }],
  ])('reads %s', (_case, env, expected) => {
    expect(parse(env)).toMatchObject(expected);
  });

  it('lets overrides win over the environment', () => {
    expect(parse({ VDL_WORKERS: '8' }, { workers: 2 }).workers).toBe(2);
  });

  it('names each bad variable, not the field', () => {
    expect(() => parse({ VDL_WORKERS: 'many', VDL_REQUESTS_CPU: '' })).toThrow(
      /^invalid example configuration: VDL_WORKERS: /,
    );
    expect(() => parse({ VDL_WORKERS: '0' })).toThrow(/VDL_WORKERS: Too small/);
  });
});
