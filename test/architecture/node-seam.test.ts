// The node seam: tests and the dev environment hold a TestNode (test/node/node.ts)
// and never a concrete node, so a real kubelet node plugs in beside the
// process node without a test knowing which one runs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The concrete nodes: only test/node/ itself may import them. */
const concreteNodes = ['test/node/process-node.ts'];

/** Imports of a concrete node from outside test/node/, as "from -> to". */
function concreteNodeImports(files: string[], read: (file: string) => string): string[] {
  return files.flatMap((file) =>
    file.startsWith('test/node/')
      ? []
      : ts
          .preProcessFile(read(file), true, true)
          .importedFiles.map(({ fileName }) => normalize(join(dirname(file), fileName)))
          .filter((target) => concreteNodes.includes(target))
          .map((target) => `${file} -> ${target}`),
  );
}

describe('concreteNodeImports', () => {
  it('names an import of the process node from outside test/node/, type imports too', () => {
    const sources: Record<string, string> = {
      'test/integration/e2e.test.ts': "import type { ProcessNode } from '../node/process-node.ts';",
      'test/dev-environment/environment.ts': "import { startNode } from '../node/node.ts';",
      'test/node/node.ts': "import { ProcessNode } from './process-node.ts';",
    };
    expect(concreteNodeImports(Object.keys(sources), (file) => sources[file] as string)).toEqual([
      'test/integration/e2e.test.ts -> test/node/process-node.ts',
    ]);
  });
});

describe('the tests of the repository', () => {
  it('reach the node only through the TestNode interface', () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
    expect(concreteNodeImports(files, (file) => readFileSync(join(root, file), 'utf8'))).toEqual([]);
  });
});
