// Starts an upstream program as a child that cannot outlive us: setpriv asks
// the kernel to SIGKILL it when this process dies, even by SIGKILL, so a
// crashed test run leaves no etcd or kube-apiserver behind holding ports.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** File that receives stdout and stderr. */
  logFile: string;
}

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private readonly exited: Promise<void>;
  private exitDescription: string | undefined;

  constructor(spec: ProcessSpec) {
    this.name = spec.name;
    this.logFile = spec.logFile;
    this.log = createWriteStream(spec.logFile, { flags: 'a' });
    this.child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', spec.command, ...spec.args], {
      env: spec.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.pipe(this.log, { end: false });
    this.child.stderr?.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitDescription = signal ? `killed by ${signal}` : `exited with code ${code}`;
        resolve();
      });
      this.child.once('error', (error) => {
        this.exitDescription = `failed to start: ${error.message}`;
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Why the process is gone, or undefined while it runs. */
  get exit(): string | undefined {
    return this.exitDescription;
  }

  /** SIGTERM, then SIGKILL when it has not exited within the grace period. */
  async stop(gracePeriodMs = 5_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exitDescription === undefined) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), gracePeriodMs);
      await this.exited;
      clearTimeout(timer);
    }
    if (!this.log.closed) {
      this.log.end();
      await once(this.log, 'close');
    }
  }

  /** Kills at once, as an OOM kill or a crash would. */
  async kill(): Promise<void> {
    await this.stop(0, 'SIGKILL');
  }

  /** Resolves when the process exits on its own. */
  whenExited(): Promise<void> {
    return this.exited;
  }
}
