// One real control plane (and MinIO) for the whole integration run. If a tool
// is missing or a component does not come up, this throws and every
// integration test fails: nothing is skipped.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { type ControlPlane, type MinioEndpoint, startControlPlane } from '../cluster/control-plane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminKubeconfig: string;
    apiServerUrl: string;
    minio: MinioEndpoint;
  }
}

let plane: ControlPlane | undefined;

export async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  plane = await startControlPlane({ log: (message) => console.error(`[control plane] ${message}`) });
  console.error(
    `[control plane] up in ${((Date.now() - started) / 1000).toFixed(1)} s, files in ${plane.dir}`,
  );
  if (!plane.minio) throw new Error('MinIO did not start');
  project.provide('adminKubeconfig', plane.adminKubeconfig);
  project.provide('apiServerUrl', plane.apiServerUrl);
  project.provide('minio', plane.minio);
}

export async function teardown(): Promise<void> {
  await plane?.stop();
}
