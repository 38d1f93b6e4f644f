// The Gateway API's standard CRDs, from the module sigs.k8s.io/gateway-api as
// the Go module proxy serves it (config/crd/standard/ is in the module zip),
// kept in Go's module cache like the other Go tools: downloaded once per version.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { versions } from './tools.ts';

const run = promisify(execFile);

/** The path of one standard CRD file, such as "httproutes", at the version versions.env pins. */
export async function gatewayApiCrd(resource: string): Promise<string> {
  const version = versions.GATEWAY_API_VERSION;
  if (!version) throw new Error('GATEWAY_API_VERSION is not set in test/toolchain/versions.env');
  const { stdout } = await run('go', ['mod', 'download', '-json', `sigs.k8s.io/gateway-api@${version}`], {
    env: { ...process.env, GOTOOLCHAIN: 'local' },
  });
  const { Dir, Error: failure } = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!Dir) throw new Error(`go mod download sigs.k8s.io/gateway-api@${version}: ${failure ?? stdout}`);
  return join(Dir, 'config/crd/standard', `gateway.networking.k8s.io_${resource}.yaml`);
}
