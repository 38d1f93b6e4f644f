// The memory baseline of benchmark 4: client-node's stock informers caching
// every VideoDownload and Job of a namespace, whole, in a bare Node process.
// Prints "synced" once both caches are listed; the bench reads its RSS.
import * as k8s from '@kubernetes/client-node';

const namespace = process.argv[2] as string;
const config = new k8s.KubeConfig();
config.loadFromDefault();
const custom = config.makeApiClient(k8s.CustomObjectsApi);
const batch = config.makeApiClient(k8s.BatchV1Api);
const downloads = k8s.makeInformer(
  config,
  `/apis/vdl.dev/v1alpha1/namespaces/${namespace}/videodownloads`,
  () =>
    custom.listNamespacedCustomObject({
      group: 'vdl.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'videodownloads',
    }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>,
);
const jobs = k8s.makeInformer(config, `/apis/batch/v1/namespaces/${namespace}/jobs`, () =>
  batch.listNamespacedJob({ namespace }),
);
await Promise.all([downloads.start(), jobs.start()]);
console.log(`synced ${downloads.list().length} downloads, ${jobs.list().length} jobs`);
setInterval(() => {}, 60_000);
