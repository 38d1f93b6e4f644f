// The cluster's scheduling and pull settings for every pod the operator makes
// (download pods, volume cleanup pods), from its pod template.
import type { V1PodSpec } from '@kubernetes/client-node';
import type { OperatorConfig } from '../../config.ts';

/**
 * The cluster's scheduling and pull settings (config.downloadPodTemplate) as
 * pod spec fields; only those its schema allows, so nothing here can touch
 * what confines the pod.
 */
export function podPlacement(template: OperatorConfig['downloadPodTemplate']): Partial<V1PodSpec> {
  const {
    nodeSelector,
    tolerations,
    affinity,
    topologySpreadConstraints,
    priorityClassName,
    imagePullSecrets,
  } = template;
  return {
    ...(nodeSelector && { nodeSelector }),
    ...(tolerations && { tolerations }),
    ...(affinity && { affinity: affinity as V1PodSpec['affinity'] }),
    ...(topologySpreadConstraints && {
      topologySpreadConstraints: topologySpreadConstraints as V1PodSpec['topologySpreadConstraints'],
    }),
    ...(priorityClassName && { priorityClassName }),
    ...(imagePullSecrets && { imagePullSecrets }),
  };
}
