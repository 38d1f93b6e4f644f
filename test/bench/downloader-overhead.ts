// The downloader against plain yt-dlp on the same large local file, side by
// side: plain yt-dlp writes the file to disk; the downloader does the same
// through its egress proxy, reports progress to the API server and uploads
// the file to MinIO with a SHA-256. Reports seconds for each and their ratio.
// 5e: plain yt-dlp through the downloader's egress proxy against plain yt-dlp
// direct, the proxy's cost alone.
import { startEgressProxy } from '../../images/downloader/egress-proxy.ts';
import { parseAllowList } from '../../lib/net/address-policy.ts';
import { startControlPlane } from '../cluster/control-plane.ts';
import { downloaderHarness } from '../support/downloader-harness.ts';
import { kubeConfigFrom } from '../support/kube.ts';
import { startMediaServer } from '../support/media-server.ts';
import { minioClient } from '../support/storage.ts';
import { createDownloadNamespace, Downloads, installCrd } from '../support/vdl.ts';
import { median, plainYtDlpSeconds, writeRandomVideo } from './plain-yt-dlp.ts';
import { reportBench } from './results-table.ts';

const megabytes = Number(process.env.VDL_BENCH_FILE_MB ?? 200);
const rounds = Number(process.env.VDL_BENCH_ROUNDS ?? 3);
const startedAt = performance.now();

const plane = await startControlPlane({ log: (m) => console.error(`[cluster] ${m}`) });
const media = await startMediaServer({ forbiddenRedirect: 'http://127.0.0.1:9/' });
try {
  await writeRandomVideo(media.file('large-random.mp4'), megabytes);
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
  const streamed: number[] = [];
  for (let round = 0; round < rounds; round++) {
    plain.push(await plainYtDlpSeconds(url));
    const result = await harness.run(`round-${round}`, { url });
    if (result.exitCode !== 0) throw new Error(`downloader failed: ${result.output}`);
    vdl.push(result.seconds);
    downloadPart.push(result.downloadSeconds);
    uploadPart.push(result.uploadSeconds);
    writes = result.statusWrites;
    streamed.push(result.streamedParts);
  }
  const ratio = median(vdl) / median(plain);

  const proxy = await startEgressProxy({ allowed: parseAllowList(`127.0.0.1:${media.port}`) });
  const direct: number[] = [];
  const proxied: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      direct.push(await plainYtDlpSeconds(`${url}?direct=${round}`));
      proxied.push(await plainYtDlpSeconds(`${url}?proxied=${round}`, proxy.url));
    }
  } finally {
    await proxy.close();
  }
  const proxyRatio = median(proxied) / median(direct);
  reportBench(
    'downloader overhead',
    startedAt,
    [
      {
        id: '5b',
        measure: `${megabytes} MiB video, the downloader alone (median of ${rounds})`,
        vdl: `${median(vdl).toFixed(2)} s`,
        baseline: `${median(plain).toFixed(2)} s (plain yt-dlp to disk)`,
        ratio: ratio.toFixed(2),
        goal: '≤ 1.2',
        met: ratio <= 1.2,
      },
      {
        id: '5e',
        measure: `${megabytes} MiB video, plain yt-dlp through the egress proxy (median of ${rounds})`,
        vdl: `${median(proxied).toFixed(2)} s`,
        baseline: `${median(direct).toFixed(2)} s (plain yt-dlp direct)`,
        ratio: proxyRatio.toFixed(2),
        goal: '≤ 1.1',
        met: proxyRatio <= 1.1,
      },
    ],
    [
      ['of which yt-dlp through the egress proxy (s)', median(downloadPart).toFixed(2)],
      ['of which upload to MinIO after yt-dlp ended (s)', median(uploadPart).toFixed(2)],
      ['parts sent while yt-dlp still wrote the file, per round', streamed.join(', ')],
      ['status writes of the last run', String(writes)],
      ['5e: direct rounds (s)', direct.map((x) => x.toFixed(2)).join(', ')],
      ['5e: through the proxy, rounds (s)', proxied.map((x) => x.toFixed(2)).join(', ')],
    ],
  );
} finally {
  await media.close();
  await plane.stop();
}
