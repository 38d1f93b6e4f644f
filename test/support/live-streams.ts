// Clients of the API's live streams that behave as a careful user's would
// across an API restart: the SSE follower resumes with Last-Event-ID, the
// WebSocket follower reconnects and subscribes again. Each records what it
// saw, so a test can check that no terminal state was missed.
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';

const terminal = new Set(['DONE', 'FAILED']);

export interface StreamRecord {
  /** Every state received, in order. */
  states: string[];
  /** Connections after the first. */
  reconnects: number;
}

/** Follows one download's SSE stream to its terminal state, resuming after the stream breaks. */
export async function followEvents(
  apiUrl: string,
  apiKey: string,
  id: string,
  deadline: number,
): Promise<StreamRecord & { ids: string[] }> {
  const record = { states: [] as string[], reconnects: -1, ids: [] as string[] };
  let lastEventId: string | undefined;
  while (Date.now() < deadline) {
    record.reconnects += 1;
    try {
      const response = await fetch(`${apiUrl}/status/${id}/events`, {
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
        signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
      });
      if (response.status !== 200) throw new Error(`events answered ${response.status}`);
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop() ?? '';
        for (const block of blocks) {
          const fields = new Map(
            block
              .split('\n')
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
          );
          if (fields.get('event') !== 'status') continue;
          const eventId = fields.get('id');
          if (eventId) {
            lastEventId = eventId;
            record.ids.push(eventId);
          }
          const { state } = JSON.parse(fields.get('data') ?? '{}') as { state: string };
          record.states.push(state);
          if (terminal.has(state)) return record;
        }
      }
    } catch {
      // Connection refused or cut: the API is restarting; try again.
    }
    await delay(250);
  }
  return record;
}

/** Follows many downloads over one WebSocket; after an abnormal close it reconnects and resubscribes. */
export async function followSocket(
  apiUrl: string,
  apiKey: string,
  ids: string[],
  deadline: number,
): Promise<Map<string, StreamRecord>> {
  const records = new Map(ids.map((id) => [id, { states: [] as string[], reconnects: -1 }]));
  const unfinished = () => ids.filter((id) => !terminal.has(records.get(id)?.states.at(-1) ?? ''));
  while (unfinished().length > 0 && Date.now() < deadline) {
    const following = unfinished();
    for (const id of following) (records.get(id) as StreamRecord).reconnects += 1;
    await new Promise<void>((resolve) => {
      const socket = new WebSocket(`${apiUrl.replace(/^http/, 'ws')}/ws`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      const timer = setTimeout(() => socket.terminate(), Math.max(1, deadline - Date.now()));
      socket.on('open', () => socket.send(JSON.stringify({ subscribe: following })));
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { type: string; job_id: string; state: string };
        if (message.type === 'status') records.get(message.job_id)?.states.push(message.state);
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (unfinished().length > 0) await delay(250);
  }
  return records;
}
