// Everything a real node adds to the machine goes again, also when its owner
// is killed with SIGKILL (a `make dev` killed, a CI run cut off): the watcher
// host.sh leaves behind undoes the link, the namespace, the mounts, the
// cgroups and the files, and the host is as it was.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostChanges, hostState } from '../node/real-node/host-state.ts';
import { eventually } from '../support/eventually.ts';

const hold = new URL('../node/real-node/hold.ts', import.meta.url).pathname;

describe('a real node on the host', () => {
  it('leaves the host as it was after its owner is SIGKILLed', async () => {
    const before = await hostState();
    const child = spawn(process.execPath, [hold], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr.on('data', (data) => {
      output += data;
    });
    const ready = await new Promise<{ index: number; stateDir: string }>((resolve, reject) => {
      child.stdout.on('data', (data) => {
        output += data;
        const line = output.split('\n').find((l) => l.startsWith('{"ready"'));
        if (line) resolve(JSON.parse(line));
      });
      child.once('exit', (code) =>
        reject(new Error(`the node exited ${code} before it was ready: ${output}`)),
      );
    });
    // While it runs, the host shows it: its link and its cgroup root.
    const running = await hostState();
    expect(running.fixed.links).toContain(`vdl-node-${ready.index}`);
    expect(running.fixed['cgroup memory']).toContain(`vdl-node-${ready.index}`);
    expect(hostChanges(before, running).length).toBeGreaterThan(0);

    child.kill('SIGKILL');
    const registry = join(process.env.TMPDIR ?? '/tmp', 'vdl-nodes', String(ready.index));
    await eventually(
      'the watcher to undo the node',
      () => (!existsSync(registry) && !existsSync(ready.stateDir) ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    // The veth goes with the namespace, asynchronously in the kernel.
    const changes = await eventually(
      'the host to be as it was',
      async () => {
        const left = hostChanges(before, await hostState());
        return left.length === 0 ? left : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    ).catch(async () => hostChanges(before, await hostState()));
    expect(changes).toEqual([]);
  });
});
