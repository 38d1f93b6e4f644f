import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { objectReaderFor, StorageUnreachable } from './object-reader.ts';

const keys = { accessKey: 'AKIDEXAMPLE', secretKey: 'secret', region: 'us-east-1' };

describe('objectReaderFor', () => {
  it('signs links for the address clients reach storage at, not its own', () => {
    const reader = objectReaderFor(
      { endpoint: 'http://minio.vdl.svc:9000', ...keys },
      { endpoint: 'https://files.example.com', ...keys },
    );
    const link = new URL(
      reader.presignGet('vdl', 'ns/a b.mp4', 300, { 'response-content-type': 'video/mp4' }),
    );
    expect(link.origin).toBe('https://files.example.com');
    expect(link.pathname).toBe('/vdl/ns/a%20b.mp4');
    expect(link.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(link.searchParams.get('response-content-type')).toBe('video/mp4');
  });

  it('tells storage that cannot be reached from a missing object', async () => {
    // A port nothing listens on: bound, then closed.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const reader = objectReaderFor({ endpoint: `http://127.0.0.1:${port}`, ...keys });
    await expect(reader.statObject('vdl', 'x')).rejects.toBeInstanceOf(StorageUnreachable);
  });
});
