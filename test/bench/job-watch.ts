// When each Job appears: a watch of a namespace's Jobs that records, per
// download (the Job's download label), the first moment its Job was seen.
import type * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { labels } from '../../crds/video-download.ts';
import { Informer } from '../../lib/kube/informer.ts';

export function watchJobStarts(config: k8s.KubeConfig, namespace: string, seen: Map<string, number>) {
  const informer = new Informer<k8s.V1Job>({
    name: `bench-jobs-${namespace}`,
    config,
    apiVersion: 'batch/v1',
    kind: 'Job',
    plural: 'jobs',
    namespace,
    logger: pino({ level: 'silent' }),
    transform: (job) => ({ metadata: { name: job.metadata?.name, namespace, labels: job.metadata?.labels } }),
    onChange: (type, job) => {
      const download = job.metadata?.labels?.[labels.download];
      if (type === 'ADDED' && download && !seen.has(download)) seen.set(download, performance.now());
    },
  });
  informer.start();
  return informer;
}
