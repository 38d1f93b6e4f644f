// The guarantees that keep test runs from leaking processes: a stubborn child
// is killed after its grace period, and children die with their parent even
// when the parent is killed with SIGKILL and runs no cleanup.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { ManagedProcess } from './managed-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'vdl-process-test-'));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ManagedProcess', () => {
  it('captures output in its log file and reports how it exited', async () => {
    const child = new ManagedProcess({
      name: 'echo',
      command: 'bash',
      args: ['-c', 'echo hello; echo oops >&2; exit 3'],
      logFile: join(dir, 'echo.log'),
    });
    await child.whenExited();
    await child.stop();
    expect(child.exit).toBe('exited with code 3');
    expect(readFileSync(join(dir, 'echo.log'), 'utf8')).toContain('hello\noops\n');
  });

  it('sends SIGKILL when SIGTERM is ignored past the grace period', async () => {
    const child = new ManagedProcess({
      name: 'stubborn',
      command: 'bash',
      args: ['-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'],
      logFile: join(dir, 'stubborn.log'),
    });
    await eventually('stubborn to start', () =>
      readFileSync(join(dir, 'stubborn.log'), 'utf8').includes('ready') ? true : undefined,
    );
    await child.stop(200);
    expect(child.exit).toBe('killed by SIGKILL');
  });

  it('dies with its parent even when the parent is SIGKILLed', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const parentScript = `
      import { ManagedProcess } from ${JSON.stringify(new URL('./managed-process.ts', import.meta.url).href)};
      import { writeFileSync } from 'node:fs';
      const child = new ManagedProcess({ name: 'sleeper', command: 'sleep', args: ['300'], logFile: ${JSON.stringify(join(dir, 'sleeper.log'))} });
      setTimeout(() => writeFileSync(${JSON.stringify(pidFile)}, String(child.pid)), 100);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', parentScript], { stdio: 'ignore' });
    const grandchild = await eventually('the parent to start its child', () => {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      return pid > 0 && isAlive(pid) ? pid : undefined;
    });
    // setpriv execs the command, so the pid is the program itself, not a wrapper that could die alone.
    expect(readFileSync(`/proc/${grandchild}/comm`, 'utf8').trim()).toBe('sleep');
    parent.kill('SIGKILL');
    await eventually(`pid ${grandchild} to be gone`, () => (isAlive(grandchild) ? undefined : true), {
      timeoutMs: 5_000,
    });
  });
});
