import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The settings only shape the heap if they come before anything else loads.
describe('memory settings', () => {
  it.each([
    ['operator/main.ts', '../lib/runtime/memory-settings.ts'],
    ['api/main.ts', '../lib/runtime/memory-settings.ts'],
  ])('are the first import of %s', (program, specifier) => {
    const source = readFileSync(new URL(`../../${program}`, import.meta.url), 'utf8');
    const firstImport = /^import .*$/m.exec(source)?.[0];
    expect(firstImport).toBe(`import '${specifier}';`);
  });
});
