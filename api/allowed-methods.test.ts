import { describe, expect, it } from 'vitest';
import { allowedMethods } from './allowed-methods.ts';
import { openApiDocument } from './openapi.ts';

const paths = openApiDocument().paths as Record<string, Record<string, unknown>>;

describe('allowedMethods', () => {
  it.each([
    ['/download', ['POST']],
    ['/downloads', ['GET', 'HEAD']],
    ['/downloads/dl-1', ['DELETE']],
    ['/status/dl-1', ['GET', 'HEAD']],
    ['/status/dl-1/events', ['GET', 'HEAD']],
    ['/healthz', ['GET', 'HEAD']],
  ])('reads %s from the document', (path, allowed) => {
    expect(allowedMethods(paths, path)).toEqual(allowed);
  });

  it.each(['/nope', '/status', '/status/a/b', '/downloads/', '/download.json'])(
    'knows nothing of %s',
    (path) => {
      expect(allowedMethods(paths, path)).toBeUndefined();
    },
  );
});
