// Completion webhooks on the real control plane: the operator's notifier
// sends one signed event per finished download to a local receiver that
// checks the signature; a receiver that was down gets it once it is back;
// an internal address it was not told to allow is refused, and says so.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permanentFailureExitCode, type VideoDownload } from '../../crds/video-download.ts';
import { freePort } from '../cluster/readiness.ts';
import { eventually } from '../support/eventually.ts';
import { createTestEnvironment, type TestEnvironment } from '../support/test-operator.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const secretName = 'vdl-webhook-hooks';
const secret = `whsec_${randomBytes(24).toString('base64')}`;
const notification = (d: VideoDownload) => d.status?.notification;

describe('completion webhooks', () => {
  let env: TestEnvironment;
  let receiver: WebhookReceiver;
  let late: WebhookReceiver;
  let refusedPort: number;

  beforeAll(async () => {
    env = await createTestEnvironment('webhook');
    await env.config.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
      namespace: env.namespace,
      body: { metadata: { name: secretName }, stringData: { secret } },
    });
    receiver = new WebhookReceiver(secret, await freePort());
    await receiver.start();
    late = new WebhookReceiver(secret, await freePort());
    refusedPort = await freePort();
    await env.startOperator({
      webhook: {
        enabled: true,
        // The two receivers, as a chart lists a receiver inside the cluster; refusedPort stays internal.
        allow: `127.0.0.1:${receiver.port},127.0.0.1:${late.port}`,
        // Short, so a receiver that is down for about ten seconds sees several attempts.
        backoffSeconds: 1,
        backoffMaxSeconds: 3,
        maxAttempts: 30,
        timeoutSeconds: 5,
      },
    });
  });
  afterAll(async () => {
    await receiver?.stop();
    await late?.stop();
    await env?.close();
  });

  const events = async (name: string) =>
    (
      await env.config.makeApiClient(k8s.CoreV1Api).listNamespacedEvent({
        namespace: env.namespace,
        fieldSelector: `involvedObject.kind=VideoDownload,involvedObject.name=${name}`,
      })
    ).items;

  it('sends one signed event when a download is stored, with what a receiver needs', async () => {
    const created = await env.downloads.create('stored', {
      url: 'https://example.com/stored',
      notify: { url: receiver.url, secretRef: { name: secretName } },
    });
    const { namespace, uid } = created.metadata;
    const result = {
      bucket: env.bucket,
      key: `${namespace}/stored/${uid}/file`,
      size: 4096,
      sha256: 'c'.repeat(64),
      contentType: 'video/mp4',
      title: 'Big Buck Bunny',
    };
    const pod = await env.kubelet.livePod('stored');
    await env.kubelet.running(pod);
    await env.kubelet.terminated(pod, 0, JSON.stringify({ result }));
    const delivered = await env.downloads.waitFor(
      'stored',
      'its event delivered',
      (d) => notification(d)?.state === 'Delivered',
    );
    expect(delivered.status?.phase).toBe('Succeeded');
    expect(notification(delivered)).toEqual({
      state: 'Delivered',
      attempts: 1,
      deliveredAt: expect.any(String),
    });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toEqual({
      id: `vdl_${uid}_done`,
      failure: undefined,
      body: {
        type: 'download.done',
        timestamp: delivered.status?.completionTime,
        data: expect.objectContaining({
          job_id: 'stored',
          namespace,
          uid,
          state: 'DONE',
          title: 'Big Buck Bunny',
          size: 4096,
          sha256: 'c'.repeat(64),
          bucket: env.bucket,
          key: result.key,
        }),
      },
    });
    // Events are sent in the background (as client-go's recorder does): one may land just after the status.
    await eventually('the NotificationDelivered Event', async () =>
      (await events('stored')).some((e) => e.reason === 'NotificationDelivered') ? true : undefined,
    );
  });

  it('delivers to a receiver that was down when the download failed, once it is back', async () => {
    const created = await env.downloads.create('late', {
      url: 'https://example.com/late',
      notify: { url: late.url, secretRef: { name: secretName } },
    });
    const pod = await env.kubelet.livePod('late');
    const error = { reason: 'VideoUnavailable', message: 'This video has been removed by the uploader' };
    await env.kubelet.terminated(pod, permanentFailureExitCode, JSON.stringify({ error }));
    // Down for about ten seconds: five attempts refused at 0, 1, 3, 6 and 9 s.
    const retrying = await env.downloads.waitFor(
      'late',
      'five failed attempts',
      (d) => (notification(d)?.attempts ?? 0) >= 5,
      30_000,
    );
    expect(notification(retrying)).toMatchObject({
      state: 'Retrying',
      lastError: expect.stringContaining('ECONNREFUSED'),
      nextAttemptAt: expect.any(String),
    });
    await eventually('the NotificationRetrying Event', async () =>
      (await events('late')).some((e) => e.reason === 'NotificationRetrying') ? true : undefined,
    );
    await late.start();
    const delivered = await env.downloads.waitFor(
      'late',
      'delivered once the receiver is back',
      (d) => notification(d)?.state === 'Delivered',
      30_000,
    );
    expect(notification(delivered)?.attempts).toBeGreaterThan(5);
    expect(late.verified.map((event) => event.id)).toEqual([`vdl_${created.metadata.uid}_failed`]);
    expect(late.received[0]?.body).toMatchObject({
      type: 'download.failed',
      data: { job_id: 'late', state: 'FAILED', ...error },
    });
  });

  it('refuses an internal address the operator was not told to allow, in status and an Event', async () => {
    await env.downloads.create('inside', {
      url: 'https://example.com/inside',
      notify: { url: `http://127.0.0.1:${refusedPort}/hook`, secretRef: { name: secretName } },
    });
    const pod = await env.kubelet.livePod('inside');
    await env.kubelet.terminated(
      pod,
      permanentFailureExitCode,
      JSON.stringify({ error: { reason: 'X', message: 'x' } }),
    );
    const refused = await env.downloads.waitFor(
      'inside',
      'its webhook refused',
      (d) => notification(d)?.state === 'Failed',
    );
    expect(notification(refused)).toEqual({
      state: 'Failed',
      attempts: 1,
      lastError: `127.0.0.1:${refusedPort} refused: 127.0.0.1 is a loopback address`,
    });
    const event = await eventually('the NotificationFailed Event', async () =>
      (await events('inside')).find((e) => e.reason === 'NotificationFailed'),
    );
    expect(event.type).toBe('Warning');
    expect(event.message).toContain('loopback');
  });

  it('writes no notification and sends nothing for a download without a webhook', async () => {
    await env.downloads.create('quiet', { url: 'https://example.com/quiet' });
    const pod = await env.kubelet.livePod('quiet');
    await env.kubelet.terminated(
      pod,
      permanentFailureExitCode,
      JSON.stringify({ error: { reason: 'X', message: 'x' } }),
    );
    const failed = await env.downloads.waitFor('quiet', 'Failed', (d) => d.status?.phase === 'Failed');
    expect(failed.status?.notification).toBeUndefined();
    expect((await events('quiet')).filter((e) => e.reason?.startsWith('Notification'))).toEqual([]);
  });
});
