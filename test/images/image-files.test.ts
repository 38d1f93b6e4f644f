import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { imageLayout, importClosure, parseDockerfile, runtimeImports } from './image-files.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);
const dependencies = Object.keys(
  (JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { dependencies: Record<string, string> })
    .dependencies,
);

describe('parseDockerfile', () => {
  it('reads the final stage only, skips COPY --from, and maps the entry point and its --import modules under WORKDIR', () => {
    const parsed = parseDockerfile(
      [
        'FROM node AS deps',
        'COPY package.json ./',
        'FROM distroless',
        'WORKDIR /app',
        'COPY --from=deps /app/node_modules ./node_modules',
        'COPY crds ./crds',
        'COPY a/x.ts a/y.ts ./a/',
        'ENTRYPOINT ["/nodejs/bin/node", "--import", "/app/lib/hook.ts", "--flag", "/app/api/main.ts"]',
      ].join('\n'),
    );
    expect(parsed).toEqual({
      sources: ['crds', 'a/x.ts', 'a/y.ts'],
      workdir: '/app',
      entryPoint: 'api/main.ts',
      preloads: ['lib/hook.ts'],
    });
  });
});

describe('runtimeImports', () => {
  it('counts what Node loads and leaves out what type stripping erases', () => {
    const source = [
      "import type { A } from './types.ts';",
      "import { type B, c } from './values.ts';",
      "import './side-effect.ts';",
      "export type { D } from './more-types.ts';",
      "export { e } from './reexport.ts';",
      "const f = await import('./lazy.ts');",
    ].join('\n');
    expect(runtimeImports(source)).toEqual(['./values.ts', './side-effect.ts', './reexport.ts', './lazy.ts']);
  });
});

describe.each(['api', 'operator', 'downloader'])('the %s image', (image) => {
  const layout = imageLayout(root, `images/${image}/Dockerfile`, tracked);
  // What --import loads before the program must be in the image as well.
  const closure = importClosure(root, layout.entryPoint, ...layout.preloads);

  it('copies every file its entry point imports', () => {
    const missing = [...closure.files].filter((file) => !layout.files.has(file));
    expect(missing, `imported by ${layout.entryPoint} but not copied into the image`).toEqual([]);
  });

  it('installs every package its entry point imports (npm ci --omit=dev keeps only dependencies)', () => {
    expect([...closure.packages].filter((name) => !dependencies.includes(name))).toEqual([]);
  });

  it('ships no test files', () => {
    expect([...layout.files].filter((file) => file.endsWith('.test.ts'))).toEqual([]);
  });
});
