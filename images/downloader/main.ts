// The program inside each download Job: reads its configuration from the
// environment, downloads, uploads, writes the termination message and exits
// 0 (success), 42 (permanent failure: the Job fails at once) or 1 (retry).
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { reuseConnections } from '../../lib/kube/kube-config.ts';
import { loadDownloaderConfig } from './config.ts';
import { runDownload, writeTerminationMessage } from './download.ts';
import { statusProgressSink } from './progress-reporter.ts';

const logger = pino({ base: { component: 'vdl-downloader' } });
const config = loadDownloaderConfig();
const kubeConfig = new k8s.KubeConfig();
kubeConfig.loadFromOptions({
  clusters: [{ name: 'cluster', server: config.apiServer, caFile: config.caFile, skipTLSVerify: false }],
  users: [
    { name: 'downloader', authProvider: { name: 'tokenFile', config: { tokenFile: config.tokenFile } } },
  ],
  contexts: [{ name: 'default', cluster: 'cluster', user: 'downloader' }],
  currentContext: 'default',
});
reuseConnections(kubeConfig);

const progress = statusProgressSink(kubeConfig, config.download, (error) =>
  // Progress is best effort: the result still reaches the operator through the termination message.
  logger.warn({ err: String(error) }, 'could not write progress'),
);
// As PID 1 of its container, nothing stops it on SIGTERM but this: the pod
// is being deleted (a cancel) or replaced, so yt-dlp and ffmpeg are killed,
// the upload in flight is aborted, and the program exits promptly.
const stop = new AbortController();
process.once('SIGTERM', () => {
  logger.info('SIGTERM: stopping');
  stop.abort();
});
const outcome = await runDownload(config, progress, (message) => logger.info(message), stop.signal);
if (!outcome.stopped) await writeTerminationMessage(config.terminationLog, outcome.message);
logger.info(
  { exitCode: outcome.exitCode, statusWrites: progress.writes, ...outcome.timings, ...outcome.message },
  'finished',
);
process.exit(outcome.exitCode);
