// The downloader against plain yt-dlp on the same large local file, side by
// side: plain yt-dlp writes the file to disk; the downloader does the same
// through its egress proxy, reports progress to the API server and uploads
// the file to MinIO with a SHA-256. Reports seconds for each and their ratio.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startControlPlane } from '../cluster/control-plane.ts';
import { downloaderHarness } from '../support/downloader-harness.ts';
import { kubeConfigFrom } from '../support/kube.ts';
import { startMediaServer } from '../support/media-server.ts';
import { minioClient } from '../support/storage.ts';
import { createDownloadNamespace, Downloads, installCrd } from '../support/vdl.ts';
import { toolPath } from '../toolchain/tools.ts';
import { reportTable } from './results-table.ts';

const run = promisify(execFile);
const megabytes = Number(process.env.VDL_BENCH_FILE_MB ?? 200);
const rounds = 3;

const plane = await startControlPlane({ log: (m) => console.error(`[cluster] ${m}`) });
const media = await startMediaServer({ forbiddenRedirect: 'http://127.0.0.1:9/' });
try {
  // Random bytes served as video/mp4: yt-dlp's generic extractor takes it as a direct video.
  const file = await open(media.file('large-random.mp4'), 'w');
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < megabytes; i++) {
    for (let j = 0; j < block.length; j += 4) block.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, j);
    await file.write(block);
  }
  await file.close();
  const url = `${media.url}/large-random.mp4`;

  const config = kubeConfigFrom(plane.adminKubeconfig);
  await installCrd(config);
  const namespace = await createDownloadNamespace(config, 'bench');
  const endpoint = plane.minio as NonNullable<typeof plane.minio>;
  const bucket = 'bench';
  await minioClient(endpoint).makeBucket(bucket);
  const harness = await downloaderHarness({
    config,
    apiServerUrl: plane.apiServerUrl,
    namespace,
    downloads: new Downloads(config, namespace),
    minio: endpoint,
    bucket,
    egressAllow: `127.0.0.1:${media.port}`,
  });

  const plain: number[] = [];
  const vdl: number[] = [];
  const downloadPart: number[] = [];
  const uploadPart: number[] = [];
  let writes = 0;
  for (let round = 0; round < rounds; round++) {
    const out = mkdtempSync(join(tmpdir(), 'vdl-plain-'));
    const started = performance.now();
    await run(toolPath('yt-dlp'), [
      '--ignore-config',
      '--no-update',
      '-q',
      '-P',
      out,
      '-o',
      'video.%(ext)s',
      url,
    ]);
    plain.push((performance.now() - started) / 1000);
    const result = await harness.run(`round-${round}`, { url });
    if (result.exitCode !== 0) throw new Error(`downloader failed: ${result.output}`);
    vdl.push(result.seconds);
    downloadPart.push(result.downloadSeconds);
    uploadPart.push(result.uploadSeconds);
    writes = result.statusWrites;
  }
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  reportTable('downloader overhead', [
    ['file (MiB)', String(megabytes)],
    [`plain yt-dlp to disk, median of ${rounds} (s)`, median(plain).toFixed(2)],
    [
      `vdl downloader: download + progress + upload + sha256, median of ${rounds} (s)`,
      median(vdl).toFixed(2),
    ],
    ['ratio vdl / plain', (median(vdl) / median(plain)).toFixed(2)],
    ['of which yt-dlp through the egress proxy (s)', median(downloadPart).toFixed(2)],
    ['of which upload to MinIO with sha256 (s)', median(uploadPart).toFixed(2)],
    ['status writes of the last run', String(writes)],
  ]);
} finally {
  await media.close();
  await plane.stop();
}
