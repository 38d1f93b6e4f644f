// The API's layout, checked: api/app.ts only composes, route handlers never
// hold a Kubernetes client (writes go through lib/kube/video-downloads.ts),
// and the submission decision does no I/O, so its table tests need no server.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const apiFiles = execFileSync('git', ['ls-files', 'api/*.ts'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((file) => file && !file.endsWith('.test.ts'));
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const importsOf = (file: string) =>
  ts.preProcessFile(read(file), true, true).importedFiles.map((i) => i.fileName);

describe('the API', () => {
  it('calls no VideoDownload endpoint of its own: CustomObjectsApi lives in lib/kube/video-downloads.ts', () => {
    expect(apiFiles.filter((file) => /CustomObjectsApi|CustomObject\(/.test(read(file)))).toEqual([]);
  });

  it('holds no Kubernetes client in a route or a live stream', () => {
    const handlers = apiFiles.filter((file) => /^api\/(routes|live)\//.test(file));
    expect(handlers.length).toBeGreaterThan(5);
    expect(handlers.filter((file) => importsOf(file).includes('@kubernetes/client-node'))).toEqual([]);
  });

  it('composes its routers in api/app.ts and defines no route there', () => {
    expect(read('api/app.ts')).not.toMatch(/\.(get|post|put|patch|delete|all)\(\s*['"`]/);
  });

  it('decides a submission without I/O', () => {
    const io =
      /^(express|@kubernetes\/client-node|pino|minio|ws|node:(dns|http|net|fs).*)$|\/(quota|url-policy|write|server)\.ts$/;
    expect(importsOf('api/submission/decide.ts').filter((name) => io.test(name))).toEqual([]);
  });
});
