// Schema-driven fuzzing of the whole API from its own OpenAPI document:
// schemathesis generates valid and invalid requests for every operation
// (examples, coverage, fuzzing and stateful phases, the stateful one
// following the document's links from POST /download to the routes of the
// job it created) and checks every answer. No 5xx, every status and body as
// documented, and the API process still up afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ApiProcess, startApiProcess } from '../support/api-process.ts';
import { toolPath } from '../toolchain/tools.ts';

// Every check schemathesis has, except these, each of which asks for
// something the document deliberately does not promise:
const excludedChecks = {
  // DELETE /downloads/{id} answers 202 "Deletion started": the resource goes
  // away once Kubernetes has removed it (and the operator its file), so a
  // read right after may still find it. The document says so; this check
  // expects a synchronous delete.
  use_after_free: 'deletion is asynchronous by design (202)',
};

// Operations left out, and why. An event stream stays open for as long as its
// download lives, and schemathesis waits for a whole body. /ws speaks
// WebSocket, which an HTTP fuzzer does not: every request it can make there
// is the documented 426 (or 401), which positive_data_acceptance calls a
// rejected valid request. hostile-auth.test.ts and hostile-bodies.test.ts
// cover both routes' 401, 404 and 426 answers.
const excludedPaths = ['/status/{id}/events', '/ws'];

// Drops the one refusal the fuzzer cannot know is right: a key reused with another body (see the file).
const hooksFile = fileURLToPath(new URL('./schemathesis-hooks.py', import.meta.url));

let api: ApiProcess;
let workDir: string;

beforeAll(async () => {
  toolPath('schemathesis'); // a missing fuzzer fails here, before a control plane starts
  workDir = mkdtempSync(join(tmpdir(), 'vdl-fuzz-'));
  api = await startApiProcess({
    // The fuzzer submits hundreds of downloads; quotas would turn most of them into 429s.
    VDL_API_SUBMIT_PER_MINUTE: '100000',
    VDL_API_SUBMIT_BURST: '100000',
    VDL_API_MAX_UNFINISHED_PER_USER: '100000',
  });
});

afterAll(async () => {
  await api?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

it('answers every generated request as its OpenAPI document says, without a 5xx', async () => {
  const run = await execa(
    toolPath('schemathesis'),
    [
      'run',
      `${api.url}/openapi.json`,
      '--checks',
      'all',
      '--exclude-checks',
      Object.keys(excludedChecks).join(','),
      ...excludedPaths.flatMap((path) => ['--exclude-path', path]),
      '--header',
      `Authorization: Bearer ${api.keys.alice}`,
      // Bounded: 50 cases per operation and phase, about 1,400 requests in under a minute here.
      '--max-examples',
      '50',
      '--workers',
      '2',
      // A new seed each run explores further over time; a failure prints its seed and `st replay` id.
      '--request-timeout',
      '30',
      '--no-color',
      '--output-sanitize',
      'false',
    ],
    // Its working files (.schemathesis, .hypothesis) go to a directory of their own, not the checkout.
    {
      reject: false,
      all: true,
      cwd: workDir,
      env: { NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false', SCHEMATHESIS_HOOKS: hooksFile },
    },
  );
  const output = run.all ?? '';
  const cases = Number(/(\d+) generated/.exec(output)?.[1] ?? 0);
  console.info(
    `schemathesis: ${/Test cases:\n\s*(.*)/.exec(output)?.[1] ?? 'no summary'}; seed ${/Seed: (\d+)/.exec(output)?.[1]}`,
  );
  expect(run.exitCode, output).toBe(0);
  expect(cases, output).toBeGreaterThan(200);
  expect(api.process.exit, await api.logTail()).toBeUndefined();
  expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
});
