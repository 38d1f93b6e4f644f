// Where `make images` (images.sh) leaves each image as an OCI archive, and the
// names it gives them: one reader, so the shell and the tests agree.
import { join } from 'node:path';

export const imageRegistry = process.env.VDL_IMAGE_REGISTRY ?? 'ghcr.io/vdl-dev';
export const imageTag = process.env.VDL_IMAGE_TAG ?? 'dev';
export const imageNames = ['operator', 'api', 'downloader', 'minio', 'test-media'] as const;
export type ImageName = (typeof imageNames)[number];

export function imagesDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache =
    env.VDL_IMAGES_CACHE ?? join(env.XDG_CACHE_HOME ?? join(env.HOME ?? '/root', '.cache'), 'vdl', 'images');
  return env.VDL_IMAGES_DIR ?? join(cache, 'oci');
}

export function imageArchive(name: ImageName): string {
  return join(imagesDir(), `${name}.oci.tar`);
}

export function imageRef(name: ImageName): string {
  return `${imageRegistry}/${name}:${imageTag}`;
}
