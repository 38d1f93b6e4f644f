// The house rule, checked on every import (type imports too): the three
// programs never import each other's folders; the shared code in lib/ and the
// contract in crds/ import no program; crds/ imports nothing but itself.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Which part of the house a repository path belongs to. */
function partOf(path: string): string {
  if (path.startsWith('images/downloader/')) return 'downloader';
  const top = path.split('/')[0] ?? '';
  return ['operator', 'api', 'lib', 'crds'].includes(top) ? top : 'other';
}

/** The parts each part may import besides itself. */
const mayImport: Record<string, string[]> = {
  operator: ['lib', 'crds'],
  api: ['lib', 'crds'],
  downloader: ['lib', 'crds'],
  lib: ['crds'],
  crds: [],
};

/** Imports that break the rule, as "from -> to", for the given files. */
function forbiddenImports(files: string[], read: (file: string) => string): string[] {
  const broken: string[] = [];
  for (const file of files) {
    const part = partOf(file);
    const allowed = mayImport[part];
    if (!allowed) continue;
    for (const { fileName } of ts.preProcessFile(read(file), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = normalize(join(dirname(file), fileName));
      const targetPart = partOf(target);
      if (targetPart !== part && !allowed.includes(targetPart)) broken.push(`${file} -> ${target}`);
    }
  }
  return broken;
}

describe('forbiddenImports', () => {
  const sources: Record<string, string> = {
    'api/app.ts':
      "import { x } from '../operator/informer.ts';\nimport { y } from '../lib/kube/informer.ts';",
    'lib/kube/informer.ts':
      "import type { Z } from '../../api/schemas.ts';\nimport { c } from '../../crds/video-download.ts';",
    'crds/crd.ts': "import { l } from '../lib/net/address-policy.ts';",
    'images/downloader/main.ts': "import { d } from './download.ts';",
  };
  it('names each import across the rule, type imports included', () => {
    expect(forbiddenImports(Object.keys(sources), (file) => sources[file] as string)).toEqual([
      'api/app.ts -> operator/informer.ts',
      'lib/kube/informer.ts -> api/schemas.ts',
      'crds/crd.ts -> lib/net/address-policy.ts',
    ]);
  });
});

describe('the import graph of the repository', () => {
  it('has no program importing another, and no shared code importing a program', () => {
    const files = execFileSync('git', ['ls-files', '*.ts'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter((file) => file && !file.endsWith('.test.ts'));
    expect(forbiddenImports(files, (file) => readFileSync(join(root, file), 'utf8'))).toEqual([]);
  });
});
