// The module hook runs in child processes only: installed here, it would
// stub client-node's APIs for every other test in this worker.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const hook = join(root, 'lib/runtime/kube-client-apis.ts');
const generated = join(root, 'node_modules/@kubernetes/client-node/dist/gen/apis');

/** Runs an ES module script with node, the hook loaded first (as the programs run); its stdout as JSON. */
function underHook(script: string, preloads: string[] = [hook]): unknown {
  const stdout = execFileSync(
    process.execPath,
    [...preloads.flatMap((file) => ['--import', file]), '--input-type=module', '-e', script],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  );
  return JSON.parse(stdout);
}

const kept = underHook(
  `const { keptApis } = await import(${JSON.stringify(hook)}); console.log(JSON.stringify([...keptApis]));`,
) as string[];

/** Source files of the programs that run with the hook (the uninstall drain runs without: its own command). */
function programSources(): string[] {
  return ['operator', 'api', 'lib']
    .flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)),
    )
    .filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.startsWith('operator/uninstall/'),
    );
}

describe('loading only the client-node APIs the programs use', { timeout: 60_000 }, () => {
  it('keeps every generated API class the operator and the API name', () => {
    const apis = new Set(
      readdirSync(generated)
        .filter((file) => /^\w+Api\.js$/.test(file))
        .map((file) => file.replace(/\.js$/, '')),
    );
    const named = new Map<string, string>();
    for (const file of programSources()) {
      const source = readFileSync(join(root, file), 'utf8');
      for (const [, name] of source.matchAll(/\b(\w+Api)\b/g))
        if (name && apis.has(name) && !named.has(name)) named.set(name, relative(root, join(root, file)));
    }
    expect(named.size).toBeGreaterThan(0);
    const missing = [...named].filter(([name]) => !kept.includes(name));
    expect(missing, 'named in [API, file] but stubbed by lib/runtime/kube-client-apis.ts').toEqual([]);
  });

  it('constructs each kept client with the programs loaded, and its calls work', () => {
    const result = underHook(`
      await import('./operator/operator.ts');
      await import('./api/server.ts');
      const { createServer } = await import('node:http');
      const k8s = await import('@kubernetes/client-node');
      // Answers every request with an object named after the path it was asked for.
      const server = createServer((request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ apiVersion: 'v1', kind: 'Thing', metadata: { name: request.url } }));
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const config = new k8s.KubeConfig();
      config.loadFromOptions({
        clusters: [{ name: 'c', server: 'http://127.0.0.1:' + server.address().port, skipTLSVerify: true }],
        users: [{ name: 'u' }],
        contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
        currentContext: 'c',
      });
      const errors = {};
      for (const name of ${JSON.stringify(kept)}) {
        try { config.makeApiClient(k8s[name]); } catch (error) { errors[name] = error.message; }
      }
      const calls = [
        await config.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ namespace: 'n', name: 's' }),
        await config.makeApiClient(k8s.BatchV1Api).readNamespacedJob({ namespace: 'n', name: 'j' }),
        await config.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace: 'n', name: 'l' }),
        await config.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject({
          group: 'vdl.dev', version: 'v1alpha1', namespace: 'n', plural: 'videodownloads', name: 'd',
        }),
      ].map((object) => object.metadata.name);
      server.close();
      let leftOut = '';
      try { config.makeApiClient(k8s.StorageV1Api); } catch (error) { leftOut = error.message; }
      console.log(JSON.stringify({ errors, calls, leftOut }));
    `) as { errors: Record<string, string>; calls: string[]; leftOut: string };
    expect(result.errors).toEqual({});
    expect(result.calls).toEqual([
      '/api/v1/namespaces/n/secrets/s',
      '/apis/batch/v1/namespaces/n/jobs/j',
      '/apis/coordination.k8s.io/v1/namespaces/n/leases/l',
      '/apis/vdl.dev/v1alpha1/namespaces/n/videodownloads/d',
    ]);
    expect(result.leftOut).toMatch(/StorageV1Api is not loaded: add its API to keptApis/);
  });

  it('never loads the left-out API modules, and loads the kept ones', () => {
    // A second hook, registered after the first, runs before it: it sees every module requested.
    const trace = `data:text/javascript,${encodeURIComponent(`
      import { registerHooks } from 'node:module';
      globalThis.loaded = [];
      registerHooks({ load(url, context, next) { globalThis.loaded.push(url); return next(url, context); } });
    `)}`;
    const loaded = underHook(
      `await import('./operator/operator.ts'); await import('./api/server.ts');
       console.log(JSON.stringify(globalThis.loaded.map((url) => /\\/gen\\/apis\\/(\\w+Api)\\.js$/.exec(url)?.[1]).filter(Boolean)));`,
      [hook, trace],
    ) as string[];
    expect(new Set(loaded)).toEqual(new Set(kept));
  });
});
