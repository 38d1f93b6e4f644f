import { describe, expect, it } from 'vitest';
import { LiveConnections, planSubscribe } from './limits.ts';

describe('LiveConnections', () => {
  it('holds up to the maximum per user, and a release frees one slot once', () => {
    const live = new LiveConnections(2);
    const first = live.take('a');
    const second = live.take('a');
    expect(first).toBeTypeOf('function');
    expect(second).toBeTypeOf('function');
    expect(live.take('a')).toBeUndefined();
    expect(live.take('b')).toBeTypeOf('function');
    first?.();
    first?.();
    expect(live.held('a')).toBe(1);
    expect(live.take('a')).toBeTypeOf('function');
    expect(live.take('a')).toBeUndefined();
  });
});

describe('planSubscribe', () => {
  const visible = (id: string) => id.startsWith('dl-');
  const cases: Array<{ name: string; text: string; following: string[]; max: number; plan: unknown }> = [
    {
      name: 'an id named many times is followed once',
      text: JSON.stringify({ subscribe: Array(100).fill('dl-a') }),
      following: [],
      max: 100,
      plan: { kind: 'ok', named: ['dl-a'], added: ['dl-a'], unknown: [] },
    },
    {
      name: 'an id already followed is named, not added',
      text: JSON.stringify({ subscribe: ['dl-a', 'dl-b'] }),
      following: ['dl-a'],
      max: 100,
      plan: { kind: 'ok', named: ['dl-a', 'dl-b'], added: ['dl-b'], unknown: [] },
    },
    {
      name: 'unknown ids and non-strings are unknown, never followed',
      text: JSON.stringify({ subscribe: ['dl-a', 'nope', 5, null] }),
      following: [],
      max: 100,
      plan: { kind: 'ok', named: ['dl-a'], added: ['dl-a'], unknown: ['nope', '5', 'null'] },
    },
    {
      name: 'more new ids than the socket may follow refuses the whole message',
      text: JSON.stringify({ subscribe: ['dl-c', 'dl-d'] }),
      following: ['dl-a', 'dl-b'],
      max: 3,
      plan: {
        kind: 'over-cap',
        detail: 'a WebSocket follows at most 3 unfinished downloads; this one follows 2 and asked for 2 more',
      },
    },
    {
      name: 'unknown ids do not count towards the cap',
      text: JSON.stringify({ subscribe: ['dl-c', 'x', 'y'] }),
      following: ['dl-a', 'dl-b'],
      max: 3,
      plan: { kind: 'ok', named: ['dl-c'], added: ['dl-c'], unknown: ['x', 'y'] },
    },
    {
      name: 'ids already followed do not count again',
      text: JSON.stringify({ subscribe: ['dl-a', 'dl-b', 'dl-c'] }),
      following: ['dl-a', 'dl-b', 'dl-c'],
      max: 3,
      plan: { kind: 'ok', named: ['dl-a', 'dl-b', 'dl-c'], added: [], unknown: [] },
    },
    ...['not json', 'null', '{}', '{"subscribe": []}', '{"subscribe": "dl-a"}', '[1]'].map((text) => ({
      name: `malformed: ${text}`,
      text,
      following: [],
      max: 100,
      plan: { kind: 'invalid', detail: 'send {"subscribe": ["<job_id>", ...]} with 1 to 100 ids' },
    })),
    {
      name: 'more than 100 ids in one message is malformed',
      text: JSON.stringify({ subscribe: Array.from({ length: 101 }, (_, i) => `dl-${i}`) }),
      following: [],
      max: 1000,
      plan: { kind: 'invalid', detail: 'send {"subscribe": ["<job_id>", ...]} with 1 to 100 ids' },
    },
  ];
  it.each(cases)('$name', ({ text, following, max, plan }) => {
    expect(planSubscribe(text, new Set(following), max, visible)).toEqual(plan);
  });
});
