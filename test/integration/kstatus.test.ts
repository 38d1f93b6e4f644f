// What GitOps tools see: kstatus (sigs.k8s.io/cli-utils, as Flux, kpt and
// Config Sync use it) run on VideoDownloads read from the real API server
// while the operator moves them through queued, running, done and failed.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VideoDownload } from '../../crds/video-download.ts';
import { createTestEnvironment, type TestEnvironment } from '../support/test-operator.ts';
import { toolPath } from '../toolchain/tools.ts';

/** kstatus' computed status of an object, by the pinned release's own code. */
function kstatusOf(object: VideoDownload): Promise<{ status: string; message: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(toolPath('kstatus-of'), (error, stdout, stderr) =>
      error ? reject(new Error(`kstatus-of: ${stderr || error.message}`)) : resolve(JSON.parse(stdout)),
    );
    child.stdin?.end(JSON.stringify(object));
  });
}

const isPhase = (phase: string) => (d: VideoDownload) => d.status?.phase === phase;

describe('kstatus on VideoDownloads', () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createTestEnvironment('kstatus');
    // One download at a time, so the second one waits in the queue.
    await env.startOperator({ maxActiveDownloads: 1 });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('reads queued and running as InProgress, done as Current and failed for good as Failed', async () => {
    const first = await env.downloads.create('first', { url: 'https://example.com/first' });
    const firstPod = await env.kubelet.livePod('first');
    await env.kubelet.running(firstPod);
    const running = await env.downloads.waitFor('first', 'Running', isPhase('Running'));

    await env.downloads.create('second', { url: 'https://example.com/second', retries: 0 });
    const queued = await env.downloads.waitFor('second', 'Queued', isPhase('Queued'));

    const { namespace, uid } = first.metadata;
    const result = {
      bucket: env.bucket,
      key: `${namespace}/first/${uid}/first.mp4`,
      size: 10,
      sha256: 'c'.repeat(64),
      contentType: 'video/mp4',
    };
    await env.kubelet.terminated(firstPod, 0, JSON.stringify({ result }));
    const done = await env.downloads.waitFor('first', 'Succeeded', isPhase('Succeeded'));

    const secondPod = await env.kubelet.livePod('second');
    await env.kubelet.running(secondPod);
    await env.kubelet.terminated(
      secondPod,
      42,
      JSON.stringify({ error: { reason: 'NotFound', message: 'HTTP Error 404: Not Found' } }),
    );
    const failed = await env.downloads.waitFor('second', 'Failed', isPhase('Failed'));

    const seen = {
      queued: await kstatusOf(queued),
      running: await kstatusOf(running),
      done: await kstatusOf(done),
      failed: await kstatusOf(failed),
    };
    expect(Object.fromEntries(Object.entries(seen).map(([state, { status }]) => [state, status]))).toEqual({
      queued: 'InProgress',
      running: 'InProgress',
      done: 'Current',
      failed: 'Failed',
    });
    expect(seen.queued.message).toBe('waiting for a free download slot');
    expect(seen.failed.message).toBe('HTTP Error 404: Not Found');
    for (const object of [queued, running, done, failed]) {
      expect(object.status?.observedGeneration).toBe(object.metadata.generation);
      expect(
        object.status?.conditions?.every((c) => c.observedGeneration === object.metadata.generation),
      ).toBe(true);
    }
    // kubectl wait keeps its conditions.
    expect(done.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Complete', status: 'True' }),
    );
    expect(failed.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Failed', status: 'True' }),
    );
  });
});
