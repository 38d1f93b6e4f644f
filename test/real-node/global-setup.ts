// One real cluster for the real-node suites: control plane, a kubelet +
// containerd node running the images `make images` built, and the chart
// installed by Helm. A missing image, tool or privilege fails every test here
// loudly; nothing is skipped.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { type RealCluster, startRealCluster } from './cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    realKubeconfig: string;
    realApiKey: string;
    realChartValues: string[];
    realStoragePort: number;
    realWebhook: { host: string; port: number };
    realNodeName: string;
  }
}

let cluster: RealCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  cluster = await startRealCluster((message) => console.error(`[real cluster] ${message}`));
  console.error(`[real cluster] up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  project.provide('realKubeconfig', cluster.kubeconfig);
  project.provide('realApiKey', cluster.apiKey);
  project.provide('realChartValues', cluster.values);
  project.provide('realStoragePort', cluster.storagePort);
  project.provide('realWebhook', cluster.webhook);
  project.provide('realNodeName', cluster.nodeName);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}
