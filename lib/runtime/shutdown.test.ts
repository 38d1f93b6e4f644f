import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const module = fileURLToPath(new URL('./shutdown.ts', import.meta.url));

// A program of its own: signals and process.exit are what is tested.
const program = `
import { onShutdown } from ${JSON.stringify(module)};
onShutdown(async (signal) => {
  console.log('stopping on ' + signal);
  process.kill(process.pid, 'SIGTERM');
  await new Promise((resolve) => setImmediate(resolve));
});
setInterval(() => {}, 1000);
console.log('ready');
`;

describe('onShutdown', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'stops once on %s, a second signal included, and exits 0',
    async (signal) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', program], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk;
        if (output === 'ready\n') child.kill(signal);
      });
      const code = await new Promise((resolve) => child.on('exit', resolve));
      expect({ code, output }).toEqual({ code: 0, output: `ready\nstopping on ${signal}\n` });
    },
  );
});
