import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { programArgs } from './node-flags.ts';

describe('node flags', () => {
  it.each(['operator', 'api'] as const)('are the ones the %s image ENTRYPOINT runs with', (program) => {
    const dockerfile = readFileSync(new URL(`../../images/${program}/Dockerfile`, import.meta.url), 'utf8');
    const entrypoint = /^ENTRYPOINT (.*)$/m.exec(dockerfile)?.[1] ?? '[]';
    expect(JSON.parse(entrypoint)).toEqual(['/usr/local/bin/node', ...programArgs(program, '/app')]);
  });
});
