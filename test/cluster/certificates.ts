// The local control plane's PKI: one CA and the certificates signed by it,
// made with the openssl CLI (Node can parse but not issue certificates).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertificatePaths {
  cert: string;
  key: string;
}

export interface ClusterPki {
  ca: CertificatePaths;
  apiserver: CertificatePaths;
  /** Client certificates by user name; the organisation becomes the group. */
  clients: Record<string, CertificatePaths>;
  /** Key pair that signs and verifies service-account tokens. */
  serviceAccount: { privateKey: string; publicKey: string };
}

export interface ClientIdentity {
  user: string;
  groups?: string[];
}

const keyOptions = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30'];

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`);
  }
}

function subject(identity: ClientIdentity): string {
  const groups = (identity.groups ?? []).map((group) => `/O=${group}`).join('');
  return `${groups}/CN=${identity.user}`;
}

/**
 * The kubernetes Service's ClusterIP (the first of --service-cluster-ip-range):
 * in-cluster clients dial it and check the serving certificate names it.
 */
export const kubernetesServiceIp = '10.96.0.1';

/**
 * Writes a CA, a serving certificate for 127.0.0.1 (and any serverAddresses, e.g.
 * the address a real node reaches the API server at) and one client certificate
 * per identity into dir.
 */
export async function createClusterPki(
  dir: string,
  identities: ClientIdentity[],
  serverAddresses: string[] = [],
): Promise<ClusterPki> {
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  await openssl([
    'req',
    '-x509',
    ...keyOptions,
    '-keyout',
    ca.key,
    '-out',
    ca.cert,
    '-subj',
    '/CN=vdl-local-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const signed = async (name: string, subj: string, extensions: string[]): Promise<CertificatePaths> => {
    const paths = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
    await openssl([
      'req',
      '-x509',
      ...keyOptions,
      '-keyout',
      paths.key,
      '-out',
      paths.cert,
      '-subj',
      subj,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      ...extensions.flatMap((extension) => ['-addext', extension]),
    ]);
    return paths;
  };
  const serviceAccount = {
    privateKey: join(dir, 'service-account.key'),
    publicKey: join(dir, 'service-account.pub'),
  };
  const [apiserver, clientList] = await Promise.all([
    signed('apiserver', '/CN=kube-apiserver', [
      `subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,${['127.0.0.1', kubernetesServiceIp, ...serverAddresses].map((ip) => `IP:${ip}`).join(',')}`,
      'extendedKeyUsage=serverAuth',
    ]),
    Promise.all(
      identities.map((identity) =>
        signed(identity.user.replaceAll(':', '-'), subject(identity), ['extendedKeyUsage=clientAuth']),
      ),
    ),
    openssl([
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      serviceAccount.privateKey,
    ]).then(() =>
      openssl(['pkey', '-in', serviceAccount.privateKey, '-pubout', '-out', serviceAccount.publicKey]),
    ),
  ]);
  const clients = Object.fromEntries(
    identities.map((identity, i) => [identity.user, clientList[i] as CertificatePaths]),
  );
  return { ca, apiserver, clients, serviceAccount };
}

export async function base64File(path: string): Promise<string> {
  return (await readFile(path)).toString('base64');
}
