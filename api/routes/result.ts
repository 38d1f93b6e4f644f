// GET /result/{id}: a presigned link to a finished download's file, signed
// only inside the download's own bucket and prefix, and only while it is
// stored; for a file written onto a volume, where it lies.
import { Router } from 'express';
import { StorageUnreachable } from '../../lib/storage/object-reader.ts';
import { callerOf, findVisibleOrArchived } from '../callers.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { problems } from '../problem.ts';
import { resultRefusal } from '../result-access.ts';
import { stateOf } from '../status-view.ts';

export function resultRoutes(
  deps: Pick<ApiDependencies, 'config' | 'downloads' | 'storage' | 'archive'>,
): Router {
  const { config } = deps;
  return Router().get('/result/:id', async (req, res) => {
    // An archived download's file is signed while it is stored (Retain, or not yet removed); else 410.
    const { download, archived } = await findVisibleOrArchived(
      deps,
      config.namespace,
      String(req.params.id),
      callerOf(req),
    );
    const state = stateOf(download);
    if (state === 'FAILED')
      throw problems.conflict(`job ${download.metadata.name} failed: ${download.status?.message ?? ''}`);
    const result = download.status?.result;
    if (state !== 'DONE' || !result)
      throw problems.conflict(`job ${download.metadata.name} is ${state}, not DONE`);
    // Signed only inside the download's own bucket and prefix, whatever its status says.
    if (resultRefusal(download, config.bucket) !== undefined)
      throw problems.conflict(
        `the recorded result of job ${download.metadata.name} lies outside its own storage; no link is signed`,
      );
    const described = {
      size: result.size,
      sha256: result.sha256,
      content_type: result.contentType,
      title: result.title ?? null,
      duration: result.durationSeconds ?? null,
    };
    if (result.volume) {
      // The API mounts no download volume: it says where the file is, for whoever reads that volume.
      const { claimName, path } = result.volume;
      // Gone with its download (cleanup Job), unless kept (Retain) or never its own (preexisting).
      if (archived && download.spec.storage?.deletionPolicy !== 'Retain' && !result.volume.preexisting)
        throw problems.gone(
          `the file of job ${download.metadata.name} was removed from volume ${claimName} with its download`,
        );
      if (req.query.redirect === 'true')
        throw problems.conflict(
          `job ${download.metadata.name} wrote its file onto volume ${claimName} at ${path}; there is no link to follow`,
        );
      return res.json({
        url: null,
        volume: { claim_name: claimName, path, preexisting: result.volume.preexisting ?? false },
        filename: result.filename ?? (path.split('/').pop() as string),
        ...described,
      });
    }
    if (!result.bucket || !result.key)
      throw problems.conflict(`job ${download.metadata.name} names no stored file`);
    if (!deps.storage) throw problems.unavailable('object storage is not configured');
    const stored = await deps.storage.statObject(result.bucket, result.key).catch((error: unknown) => {
      if (error instanceof StorageUnreachable) throw problems.unavailable(error.message);
      throw error;
    });
    if (!stored) throw problems.gone(`the file of job ${download.metadata.name} is no longer stored`);
    const filename = result.filename ?? result.key.split('/').pop() ?? 'download';
    const url = deps.storage.presignGet(result.bucket, result.key, config.presignSeconds, {
      'response-content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`,
      'response-content-type': result.contentType,
    });
    if (req.query.redirect === 'true') return res.redirect(302, url);
    res.json({
      url,
      expires_at: new Date(Date.now() + config.presignSeconds * 1000).toISOString(),
      filename,
      ...described,
    });
  });
}
