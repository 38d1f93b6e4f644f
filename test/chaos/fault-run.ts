// The bookkeeping of a fault run: every download the API accepted (each
// 202), every fault injected, and every Job each download ever had, seen
// through watches of our own that outlive the faults. The audit reads it.
import type * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import type { VideoDownload } from '../../crds/video-download.ts';
import { Informer } from '../../lib/kube/informer.ts';
import type { DevEnvironment } from '../dev-environment/environment.ts';
import { eventually } from '../support/eventually.ts';
import { kubeConfigFrom } from '../support/kube.ts';
import { watchDownloads } from '../support/vdl.ts';

const finishedPhases = new Set(['Succeeded', 'Failed']);

export class FaultRun {
  readonly env: DevEnvironment;
  readonly config: k8s.KubeConfig;
  /** Job ids the API answered 202 for, with the URL submitted. */
  readonly accepted = new Map<string, string>();
  readonly faults: string[] = [];
  /** Download name → UIDs of every Job ever seen for it. */
  readonly jobUids = new Map<string, Set<string>>();
  readonly downloads: Informer<VideoDownload>;
  private readonly jobs: Informer<k8s.V1Job>;

  constructor(env: DevEnvironment) {
    this.env = env;
    this.config = kubeConfigFrom(env.kubeconfig);
    this.downloads = watchDownloads(this.config, env.namespace, () => {});
    this.jobs = new Informer<k8s.V1Job>({
      name: 'chaos-jobs',
      config: this.config,
      apiVersion: 'batch/v1',
      kind: 'Job',
      plural: 'jobs',
      namespace: env.namespace,
      logger: pino({ level: 'silent' }),
      onChange: (_type, job) => {
        const download = job.metadata?.labels?.['vdl.dev/download'];
        if (!download || !job.metadata?.uid) return;
        const uids = this.jobUids.get(download) ?? new Set<string>();
        uids.add(job.metadata.uid);
        this.jobUids.set(download, uids);
      },
    });
    this.jobs.start();
  }

  async ready(): Promise<void> {
    await Promise.all([this.downloads.waitForSync(), this.jobs.waitForSync()]);
  }

  stop(): void {
    this.downloads.stop();
    this.jobs.stop();
  }

  fault(description: string): void {
    this.faults.push(description);
  }

  /** Submits through the REST API; every 202 is recorded. */
  async submit(url: string, extra: Record<string, unknown> = {}): Promise<string> {
    const response = await fetch(`${this.env.apiUrl}/download`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.env.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url, ...extra }),
    });
    const body = (await response.json()) as { job_id: string };
    if (response.status !== 202) throw new Error(`submit ${url}: ${response.status} ${JSON.stringify(body)}`);
    this.accepted.set(body.job_id, url);
    return body.job_id;
  }

  /** count downloads of the throttled fixture (about 3 s each), each at its own URL, with extra spec fields. */
  async wave(label: string, count = 50, extra: Record<string, unknown> = {}): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 10) {
      const batch = Array.from({ length: Math.min(10, count - i) }, (_, j) =>
        this.submit(`${this.env.media.url}/throttled-${label}-${i + j}.mp4`, extra),
      );
      ids.push(...(await Promise.all(batch)));
    }
    return ids;
  }

  get(id: string): VideoDownload | undefined {
    return this.downloads.get(`${this.env.namespace}/${id}`);
  }

  phaseOf(id: string): string | undefined {
    return this.get(id)?.status?.phase;
  }

  async running(ids: string[], atLeast: number, timeoutMs = 120_000): Promise<string[]> {
    return eventually(
      `${atLeast} of ${ids.length} downloads running`,
      () => {
        const running = ids.filter((id) => this.phaseOf(id) === 'Running');
        return running.length >= atLeast ? running : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** Waits until every id has a terminal phase; the failure names those still unfinished. */
  async finished(ids: string[], timeoutMs = 360_000): Promise<VideoDownload[]> {
    await eventually(
      `${ids.length} downloads to finish`,
      () => {
        const open = ids.filter((id) => !finishedPhases.has(this.phaseOf(id) ?? ''));
        if (open.length === 0) return true;
        throw new Error(
          `${open.length} unfinished: ${open
            .slice(0, 5)
            .map((id) => `${id}=${this.phaseOf(id)}`)
            .join(', ')}`,
        );
      },
      { timeoutMs, intervalMs: 250 },
    );
    return ids.map((id) => this.get(id) as VideoDownload);
  }

  isFinished(id: string): boolean {
    return finishedPhases.has(this.phaseOf(id) ?? '');
  }
}
