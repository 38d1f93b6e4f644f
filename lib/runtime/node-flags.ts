// The node command line the operator and the API run with, in one place for
// everything that starts them: the images' ENTRYPOINTs (node-flags.test.ts
// checks they match), the dev environment and the benches.
// - --import kube-client-apis.ts: load only the client-node APIs they use.
// - --max-semi-space-size (API): a young generation of 8 MiB semi-spaces, so
//   the many short-lived objects of serving requests die in fewer, cheaper
//   scavenges; GET /status's p99 under load is those pauses.
// Settings that can be made at run time are in memory-settings.ts.
import { join } from 'node:path';

export type Program = 'operator' | 'api' | 'downloader';

const extra: Record<Program, string[]> = {
  operator: [],
  api: ['--max-semi-space-size=8'],
  downloader: [],
};

const mains: Record<Program, string> = {
  operator: 'operator/main.ts',
  api: 'api/main.ts',
  downloader: 'images/downloader/main.ts',
};

/** Node's options for the program, with paths under root (the repository, or /app in the images). */
export function nodeFlags(program: Program, root: string): string[] {
  // The downloader loads no @kubernetes/client-node (its one request is status-patch.ts).
  const clientApis =
    program === 'downloader' ? [] : ['--import', join(root, 'lib/runtime/kube-client-apis.ts')];
  return [...clientApis, ...extra[program]];
}

/** node's arguments to run the program: its options, then its main.ts. */
export function programArgs(program: Program, root: string): string[] {
  return [...nodeFlags(program, root), join(root, mains[program])];
}
