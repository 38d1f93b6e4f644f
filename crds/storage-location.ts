// Where a download's files may lie: its bucket and its own key prefix. The
// operator writes them into the Job and checks the result against them; the
// API checks them again before it presigns a link, because status is data
// that a download pod could once write.
import type { ObjectMeta, Result, VideoDownloadSpec } from './video-download.ts';
import { volumePathOutside } from './volume-path.ts';

/** Every key the download may write starts with this. */
export function downloadKeyPrefix(download: { metadata: ObjectMeta; spec: VideoDownloadSpec }): string {
  const { namespace, name, uid } = download.metadata;
  return `${download.spec.storage?.keyPrefix ?? ''}${namespace}/${name}/${uid}/`;
}

/** The download's bucket (its spec's, else the operator's default) and its own key prefix. */
export function downloadLocation(
  download: { metadata: ObjectMeta; spec: VideoDownloadSpec },
  defaultBucket: string,
): { bucket: string; prefix: string } {
  return { bucket: download.spec.storage?.bucket ?? defaultBucket, prefix: downloadKeyPrefix(download) };
}

/** Why a result lies outside the download's own bucket and prefix; undefined when it lies inside. */
export function resultOutside(
  result: Pick<Result, 'bucket' | 'key' | 'infoKey'>,
  own: { bucket: string; prefix: string },
): string | undefined {
  if (result.key === undefined) return 'the result names no object key';
  if (result.bucket !== own.bucket) return `the result names bucket ${result.bucket}, not ${own.bucket}`;
  const keys = [result.key, result.infoKey].filter((key): key is string => key !== undefined);
  const stray = keys.find(
    (key) =>
      !key.startsWith(own.prefix) ||
      key.length === own.prefix.length ||
      key.split('/').some((segment) => segment === '..' || segment === '.'),
  );
  return stray === undefined ? undefined : `the result names key ${stray}, outside ${own.prefix}`;
}

/**
 * Why a result is not where this download may write: for a volume download a
 * relative path on its own claim, else an object in its own bucket and
 * prefix; undefined when it lies there.
 */
export function resultOutsideDownload(
  result: Result,
  download: { metadata: ObjectMeta; spec: VideoDownloadSpec },
  defaultBucket: string,
): string | undefined {
  const volume = download.spec.storage?.volume;
  if (!volume) {
    if (result.volume)
      return `the result names claim ${result.volume.claimName}, but the download stores objects`;
    return resultOutside(result, downloadLocation(download, defaultBucket));
  }
  if (!result.volume) return `the result names no file on claim ${volume.claimName}`;
  if (result.bucket !== undefined || result.key !== undefined || result.infoKey !== undefined)
    return 'the result of a volume download names an object';
  if (result.volume.claimName !== volume.claimName)
    return `the result names claim ${result.volume.claimName}, not ${volume.claimName}`;
  return volumePathOutside(result.volume.path);
}
