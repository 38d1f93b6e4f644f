// A real PostgreSQL for the tests and `make dev`: Debian's server binaries,
// a cluster made by initdb in a directory of its own, listening on loopback
// on a free port with password (SCRAM) authentication, as a deployment would
// ask. PostgreSQL refuses to run as root, so as root it runs as the
// package's postgres user. Stopping it (fast shutdown) leaves nothing running.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ManagedProcess } from './managed-process.ts';
import { freePort } from './readiness.ts';

export interface PostgresEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** postgres://user:password@host:port/database */
  url: string;
}

export interface RunningPostgres {
  endpoint: PostgresEndpoint;
  /** Stops it (an outage); start() brings it back on the same port and data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  destroy(): Promise<void>;
}

/** The newest server binaries Debian's postgresql package installed; a clear error when there are none. */
export function postgresBinaries(root = '/usr/lib/postgresql'): string {
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((version) => existsSync(join(root, version, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error(
      `no PostgreSQL server in ${root}: install the Debian package postgresql (.ci/run and test/toolchain/missing-packages.sh do)`,
    );
  return join(root, versions[0] as string, 'bin');
}

/** Who the server runs as: this user, or the package's postgres user when this is root. */
async function serverIds(): Promise<{ uid: number; gid: number; name: string } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const { stdout } = await execa('id', ['-u', 'postgres']).catch(() => {
    throw new Error(
      'running as root, and there is no postgres user to run PostgreSQL as: install postgresql',
    );
  });
  const gid = (await execa('id', ['-g', 'postgres'])).stdout;
  return { uid: Number(stdout), gid: Number(gid), name: 'postgres' };
}

/** Makes a cluster in dir (initdb) and starts it; resolves once it accepts connections. */
export async function startPostgres(dir: string, logDir: string): Promise<RunningPostgres> {
  const bin = postgresBinaries();
  const ids = await serverIds();
  // As root the server runs as postgres, which cannot reach into a 0700 temp dir of root's:
  // its files go in a temp dir of its own then, removed by destroy().
  const base = ids ? await mkdtemp(join(tmpdir(), 'vdl-postgres-')) : dir;
  const data = join(base, 'postgres');
  const socketDir = join(base, 'postgres-socket');
  await mkdir(data, { recursive: true, mode: 0o700 });
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  if (ids) {
    await chmod(base, 0o700);
    await Promise.all([
      chown(base, ids.uid, ids.gid),
      chown(data, ids.uid, ids.gid),
      chown(socketDir, ids.uid, ids.gid),
    ]);
  }
  const user = 'vdl';
  const password = randomBytes(18).toString('base64url');
  const passwordFile = join(socketDir, 'password');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (ids) await chown(passwordFile, ids.uid, ids.gid);
  // As the server's user: setpriv (util-linux) is what managed-process.ts uses too.
  const asServer = (command: string, args: string[]) =>
    ids
      ? {
          command: 'setpriv',
          // A change of user clears the parent-death signal: set again, so a killed test run leaves no server.
          args: [
            '--reuid',
            ids.name,
            '--regid',
            ids.name,
            '--init-groups',
            '--pdeathsig',
            'KILL',
            command,
            ...args,
          ],
        }
      : { command, args };
  const init = asServer(join(bin, 'initdb'), [
    '--pgdata',
    data,
    '--username',
    user,
    '--pwfile',
    passwordFile,
    '--auth-host',
    'scram-sha-256',
    '--auth-local',
    'scram-sha-256',
    '--encoding',
    'UTF8',
    '--locale',
    'C.UTF-8',
  ]);
  await execa(init.command, init.args, { all: true }).catch((error: { all?: string }) => {
    throw new Error(`initdb failed: ${error.all ?? error}`);
  });
  const port = await freePort();
  const endpoint: PostgresEndpoint = {
    host: '127.0.0.1',
    port,
    user,
    password,
    database: 'postgres',
    url: `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
  };
  let server: ManagedProcess | undefined;
  const start = async () => {
    const run = asServer(join(bin, 'postgres'), [
      '-D',
      data,
      '-h',
      endpoint.host,
      '-p',
      String(port),
      '-k',
      socketDir,
      '-c',
      'fsync=off',
      '-c',
      'log_min_messages=warning',
    ]);
    server = new ManagedProcess({
      name: 'postgres',
      command: run.command,
      args: run.args,
      logFile: join(logDir, 'postgres.log'),
    });
    await waitForPostgres(bin, endpoint, server);
  };
  try {
    await start();
  } catch (error) {
    // A server that did not come up leaves neither a process nor its files.
    await server?.stop(5_000, 'SIGINT');
    if (base !== dir) await rm(base, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint,
    // SIGINT: the fast shutdown, which ends sessions and exits cleanly.
    stop: async () => server?.stop(10_000, 'SIGINT'),
    start,
    async destroy() {
      try {
        await server?.stop(10_000, 'SIGINT');
      } finally {
        await rm(join(base, 'postgres'), { recursive: true, force: true });
        await rm(socketDir, { recursive: true, force: true });
        if (base !== dir) await rm(base, { recursive: true, force: true });
      }
    },
  };
}

async function waitForPostgres(
  bin: string,
  endpoint: PostgresEndpoint,
  server: ManagedProcess,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exit) throw new Error(`postgres ${server.exit}; see ${server.logFile}`);
    const ready = await execa(join(bin, 'pg_isready'), ['-h', endpoint.host, '-p', String(endpoint.port)], {
      reject: false,
    });
    if (ready.exitCode === 0) return;
    if (Date.now() > deadline)
      throw new Error(`postgres did not accept connections in 60 s; see ${server.logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
