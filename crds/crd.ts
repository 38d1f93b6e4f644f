// The CustomResourceDefinition of VideoDownload, built from the zod schemas.
import { z } from 'zod';
import { type JsonSchema, toStructuralSchema } from './structural-schema.ts';
import { group, kind, plural, VideoDownloadSpec, VideoDownloadStatus, version } from './video-download.ts';

function schemaOf(schema: z.ZodType): JsonSchema {
  return toStructuralSchema(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as JsonSchema);
}

export function videoDownloadCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${plural}.${group}`,
      labels: { 'app.kubernetes.io/part-of': 'vdl' },
    },
    spec: {
      group,
      scope: 'Namespaced',
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: 'videodownload',
        shortNames: ['vd'],
        categories: ['vdl'],
      },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            {
              name: 'Phase',
              type: 'string',
              jsonPath: '.status.phase',
              description: 'Where the download is.',
            },
            {
              name: 'Progress',
              type: 'string',
              jsonPath: '.status.progress.percent',
              description: 'Overall progress in percent.',
            },
            {
              name: 'Title',
              type: 'string',
              jsonPath: '.status.progress.title',
              description: 'Title of the video, once known.',
            },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
            {
              name: 'URL',
              type: 'string',
              jsonPath: '.spec.url',
              priority: 1,
              description: 'What is downloaded.',
            },
            {
              name: 'Reason',
              type: 'string',
              jsonPath: '.status.reason',
              priority: 1,
              description: 'Why it failed.',
            },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description:
                'A video to download: vdl runs yt-dlp in a Job, stores the file in S3-compatible storage and reports progress and the result in status.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'vdl.dev/v1alpha1' },
                kind: { type: 'string', description: 'VideoDownload' },
                metadata: { type: 'object' },
                spec: {
                  ...schemaOf(VideoDownloadSpec),
                  'x-kubernetes-validations': [
                    {
                      rule: 'self == oldSelf',
                      message: 'spec is immutable: create a new VideoDownload instead',
                    },
                  ],
                },
                status: schemaOf(VideoDownloadStatus),
              },
            },
          },
        },
      ],
    },
  };
}
