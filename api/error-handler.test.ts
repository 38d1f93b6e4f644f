import { describe, expect, it } from 'vitest';
import { problemOf } from './error-handler.ts';
import { problems } from './problem.ts';

describe('problemOf', () => {
  it.each([
    ['our own problem, as thrown', problems.conflict('busy'), 409, 'busy'],
    ['a body over the limit', { type: 'entity.too.large' }, 413, 'the request body is over 1024 bytes'],
    ['a body that is not JSON', { type: 'entity.parse.failed' }, 400, 'the body is not valid JSON'],
    [
      'an encoding the parser lacks',
      { type: 'encoding.unsupported' },
      415,
      'send the body as application/json',
    ],
    ['a charset the parser lacks', { type: 'charset.unsupported' }, 415, 'send the body as application/json'],
    ['a path id that does not decode', new URIError('URI malformed'), 404, 'job not found'],
    [
      'a body that cannot be read',
      Object.assign(new Error('incorrect header check'), { status: 400, expose: true }),
      400,
      'the body could not be read: incorrect header check',
    ],
  ])('maps %s to a %i', (_what, error, status, detail) => {
    expect(problemOf(error, 1024)).toMatchObject({ status, message: detail });
  });

  it.each([
    ['a failed API server call', Object.assign(new Error('HTTP 500'), { code: 500 })],
    ['a 400 that is not for the client', Object.assign(new Error('internal'), { status: 400 })],
  ])('leaves %s to the 500', (_what, error) => {
    expect(problemOf(error, 1024)).toBeUndefined();
  });
});
