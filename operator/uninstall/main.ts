// The uninstall drain, run by the chart's pre-delete hook Job (charts/vdl/templates/uninstall-drain.yaml).
import '../../lib/runtime/memory-settings.ts';
import { pino } from 'pino';
import { z } from 'zod';
import { envInteger, parseEnv } from '../../lib/config/env-config.ts';
import { loadKubeConfig } from '../../lib/kube/kube-config.ts';
import { drain } from './drain.ts';

const DrainConfig = z.object({
  operatorNamespace: z.string().min(1),
  operatorDeployment: z.string().min(1),
  /** The operator's VDL_WATCH_NAMESPACE: empty for every namespace. */
  watchNamespace: z.string().default(''),
  timeoutSeconds: envInteger.min(1).default(240),
});

const config = parseEnv(DrainConfig, process.env, { program: 'uninstall drain', prefix: 'VDL_' });
const logger = pino({ base: { component: 'vdl-uninstall-drain' } });
try {
  const report = await drain({
    kubeConfig: loadKubeConfig(),
    logger,
    operatorNamespace: config.operatorNamespace,
    operatorDeployment: config.operatorDeployment,
    downloadNamespace: config.watchNamespace,
    timeoutMs: config.timeoutSeconds * 1000,
  });
  logger.info(report, 'drained: no download Job or pod is left');
} catch (error) {
  // helm uninstall fails and keeps the release; running it again retries the drain.
  logger.error({ err: String(error) }, 'drain failed');
  process.exitCode = 1;
}
