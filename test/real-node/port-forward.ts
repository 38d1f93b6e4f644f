// `kubectl port-forward` as a user runs it: the way the tests reach the API
// and MinIO on the real node (the pod subnet is not routed to the host's
// loopback clients; kube-apiserver tunnels to the kubelet).
import { type ChildProcess, spawn } from 'node:child_process';
import { toolPath } from '../toolchain/tools.ts';

export interface PortForward {
  url: string;
  /** Stops kubectl; resolves once it exited, so its local port is free again. */
  close(): Promise<void>;
}

/** Forwards 127.0.0.1:localPort (0: any free one) to a Service's port; resolves once kubectl listens. */
export function portForward(
  kubeconfig: string,
  namespace: string,
  target: string,
  remotePort: number,
  localPort = 0,
): Promise<PortForward> {
  const child: ChildProcess = spawn(
    toolPath('kubectl'),
    [
      '--kubeconfig',
      kubeconfig,
      '-n',
      namespace,
      'port-forward',
      '--address',
      '127.0.0.1',
      target,
      `${localPort}:${remotePort}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`kubectl port-forward ${target} did not listen within 30 s: ${output}`));
    }, 30_000);
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        const exited = new Promise<void>((done) => child.once('exit', () => done()));
        resolve({
          url: `http://127.0.0.1:${match[1]}`,
          close: () => {
            child.kill();
            return exited;
          },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward ${target} exited ${code}: ${output}`));
    });
  });
}
