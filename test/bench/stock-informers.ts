// The memory baseline of benchmark 4: client-node's stock informers, in a
// bare Node process, caching whole objects of exactly what the program they
// are compared with caches (argv[3]): for `operator` every VideoDownload and
// the Jobs and pods it labels; for `api` every VideoDownload and its key
// Secret (the API caches no Jobs). Prints "synced" once every cache is
// listed; the bench reads its RSS.
import * as k8s from '@kubernetes/client-node';
import { labels } from '../../crds/video-download.ts';
import { managedBy } from '../../operator/controllers/video-download/desired-job.ts';

const namespace = process.argv[2] as string;
const what = process.argv[3];
if (what !== 'operator' && what !== 'api')
  throw new Error('usage: stock-informers.ts NAMESPACE operator|api');
const config = new k8s.KubeConfig();
config.loadFromDefault();
const custom = config.makeApiClient(k8s.CustomObjectsApi);
const batch = config.makeApiClient(k8s.BatchV1Api);
const core = config.makeApiClient(k8s.CoreV1Api);
const owned = `${labels.managedBy}=${managedBy}`;
const keysSecret = 'metadata.name=vdl-api-keys';

const informers: Array<k8s.Informer<k8s.KubernetesObject> & k8s.ObjectCache<k8s.KubernetesObject>> = [
  k8s.makeInformer(
    config,
    `/apis/vdl.dev/v1alpha1/namespaces/${namespace}/videodownloads`,
    () =>
      custom.listNamespacedCustomObject({
        group: 'vdl.dev',
        version: 'v1alpha1',
        namespace,
        plural: 'videodownloads',
      }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>,
  ),
];
if (what === 'operator') {
  informers.push(
    k8s.makeInformer(
      config,
      `/apis/batch/v1/namespaces/${namespace}/jobs`,
      () => batch.listNamespacedJob({ namespace, labelSelector: owned }),
      owned,
    ),
    k8s.makeInformer(
      config,
      `/api/v1/namespaces/${namespace}/pods`,
      () => core.listNamespacedPod({ namespace, labelSelector: owned }),
      owned,
    ),
  );
} else {
  informers.push(
    k8s.makeInformer(
      config,
      // The watch takes its field selector from the path's query.
      `/api/v1/namespaces/${namespace}/secrets?fieldSelector=${encodeURIComponent(keysSecret)}`,
      () => core.listNamespacedSecret({ namespace, fieldSelector: keysSecret }),
    ),
  );
}
await Promise.all(informers.map((informer) => informer.start()));
console.log(`synced ${what}: ${informers.map((informer) => informer.list().length).join(', ')} objects`);
setInterval(() => {}, 60_000);
