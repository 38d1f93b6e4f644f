// Kubeconfig files for the local control plane, certificates embedded so a
// file can be copied or exported alone.
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { base64File, type CertificatePaths } from './certificates.ts';

export async function writeKubeconfig(
  path: string,
  {
    server,
    caCert,
    client,
    user,
  }: { server: string; caCert: string; client: CertificatePaths; user: string },
): Promise<void> {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'vdl-local', cluster: { server, 'certificate-authority-data': await base64File(caCert) } },
    ],
    users: [
      {
        name: user,
        user: {
          'client-certificate-data': await base64File(client.cert),
          'client-key-data': await base64File(client.key),
        },
      },
    ],
    contexts: [{ name: 'vdl-local', context: { cluster: 'vdl-local', user, namespace: 'default' } }],
    'current-context': 'vdl-local',
  };
  await writeFile(path, stringify(config), { mode: 0o600 });
}
