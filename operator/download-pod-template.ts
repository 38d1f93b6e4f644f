// What a cluster may set on every download pod (the chart's
// downloader.podTemplate, as the JSON of VDL_DOWNLOAD_POD_TEMPLATE): where it
// is scheduled and how its image is pulled, nothing else. A download pod runs
// a parser of untrusted pages, so what confines it (security context, service
// account and token, volumes, environment, the egress proxy, the container
// itself) is the operator's alone: any other key is refused at start, by name.
import { z } from 'zod';

/** The keys a download pod template may hold. */
export const downloadPodTemplateKeys = [
  'nodeSelector',
  'tolerations',
  'affinity',
  'topologySpreadConstraints',
  'priorityClassName',
  'imagePullPolicy',
  'imagePullSecrets',
  'podLabels',
  'podAnnotations',
] as const;

// A label or annotation key: an optional DNS-subdomain prefix, then a name of up to 63 characters.
const metadataKey = z
  .string()
  .regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    'is no label or annotation key',
  );
const labelValue = z
  .string()
  .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, 'is no label value (63 characters at most)');

/**
 * Annotations that would loosen the pod's confinement (the legacy seccomp
 * and AppArmor annotations, which kubelets still honour); refused.
 */
const confiningAnnotation =
  /^(seccomp\.security\.alpha\.kubernetes\.io\/|container\.seccomp\.security\.alpha\.kubernetes\.io\/|container\.apparmor\.security\.beta\.kubernetes\.io\/)/;

const toleration = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.number().int().optional(),
});

// The API server checks the inside of these when the Job is created; here only their outline.
const affinity = z.strictObject({
  nodeAffinity: z.record(z.string(), z.unknown()).optional(),
  podAffinity: z.record(z.string(), z.unknown()).optional(),
  podAntiAffinity: z.record(z.string(), z.unknown()).optional(),
});
const topologySpreadConstraint = z.looseObject({
  maxSkew: z.number().int().min(1),
  topologyKey: z.string().min(1),
  whenUnsatisfiable: z.enum(['DoNotSchedule', 'ScheduleAnyway']),
});

const podTemplateObject = z.strictObject(
  {
    nodeSelector: z.record(metadataKey, z.string()).optional(),
    tolerations: z.array(toleration).optional(),
    affinity: affinity.optional(),
    topologySpreadConstraints: z.array(topologySpreadConstraint).optional(),
    priorityClassName: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'is no PriorityClass name')
      .optional(),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
    imagePullSecrets: z.array(z.strictObject({ name: z.string().min(1) })).optional(),
    podLabels: z.record(metadataKey, labelValue).optional(),
    podAnnotations: z
      .record(metadataKey, z.string())
      .superRefine((annotations, context) => {
        for (const key of Object.keys(annotations).filter((key) => confiningAnnotation.test(key)))
          context.addIssue({
            code: 'custom',
            path: [key],
            message: 'would change the confinement of download pods (seccomp or AppArmor); not allowed',
          });
      })
      .optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `${issue.keys.join(', ')}: not allowed in a download pod template, which may set only ` +
          `${downloadPodTemplateKeys.join(', ')} (what confines download pods stays the operator's)`
        : undefined,
  },
);

/**
 * The template from its JSON (the variable) or as an object (tests); unset:
 * nothing. Problems are reported by their place inside the template
 * ("tolerations.0.effect: ..."), as the whole is one variable.
 */
export const DownloadPodTemplate = z.unknown().transform((value, context) => {
  let template = value;
  if (typeof value === 'string') {
    try {
      template = JSON.parse(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: `is no JSON: ${(error as Error).message}` });
      return z.NEVER;
    }
  }
  const parsed = podTemplateObject.safeParse(template);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues)
    context.addIssue({
      code: 'custom',
      message: issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
    });
  return z.NEVER;
});
export type DownloadPodTemplate = z.output<typeof podTemplateObject>;
