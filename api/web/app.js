// The vdl web page: submit URLs and watch downloads live. Plain modules, no
// framework, no requests anywhere but this API.
const keyInput = document.querySelector('#api-key');
const errorBox = document.querySelector('#error');
const list = document.querySelector('#downloads');
const rows = new Map();
// Deleted here: a status message still in flight must not bring the row back.
const removed = new Set();
let socket;

const apiKey = () => localStorage.getItem('vdl-api-key') ?? '';
keyInput.value = apiKey();

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = !text;
}

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${apiKey()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = response.headers.get('content-type')?.includes('json') ? await response.json() : {};
  if (!response.ok) {
    const retry = response.headers.get('retry-after');
    throw new Error(
      `${data.title ?? response.status}: ${data.detail ?? ''}${retry ? ` (try again in ${retry} s)` : ''}`,
    );
  }
  return data;
}

function bytes(n) {
  if (n == null) return '';
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function render(status) {
  if (removed.has(status.job_id)) return;
  let row = rows.get(status.job_id);
  if (!row) {
    row = document.querySelector('#row').content.firstElementChild.cloneNode(true);
    row.dataset.id = status.job_id;
    row.querySelector('.cancel').addEventListener('click', () => remove(status.job_id));
    row.querySelector('.fetch').addEventListener('click', () => saveFile(status.job_id));
    rows.set(status.job_id, row);
    list.prepend(row);
  }
  const p = status.progress;
  row.querySelector('.title').textContent = status.title ?? 'Untitled';
  row.querySelector('.url').textContent = status.url;
  const bar = row.querySelector('progress');
  bar.value = p.percent ?? 0;
  bar.setAttribute('aria-label', `${status.job_id} progress`);
  row.querySelector('.state').textContent = status.state;
  const details = [];
  if (status.state === 'IN_PROGRESS') {
    if (p.stage) details.push(p.stage);
    if (p.total_bytes) details.push(`${bytes(p.downloaded_bytes)} of ${bytes(p.total_bytes)}`);
    if (p.speed) details.push(`${bytes(p.speed)}/s`);
    if (p.eta != null) details.push(`${p.eta} s left`);
  } else if (status.state === 'DONE' && p.total_bytes) {
    details.push(bytes(p.total_bytes));
  }
  row.querySelector('.details').textContent = details.join(' · ');
  const message = row.querySelector('.message');
  message.hidden = !status.error;
  message.textContent = status.error ? `${status.error.reason}: ${status.error.message}` : '';
  row.querySelector('.fetch').hidden = status.state !== 'DONE';
  row.querySelector('.cancel').textContent = ['DONE', 'FAILED'].includes(status.state) ? 'Delete' : 'Cancel';
  row.dataset.state = status.state;
}

let reconnectDelay = 500;
// Ids asked for while the socket is still being opened; the open subscribes them all.
let connecting = false;
const pending = new Set();

function unfinishedIds() {
  return [...rows.values()]
    .filter((r) => !['DONE', 'FAILED'].includes(r.dataset.state))
    .map((r) => r.dataset.id);
}

function reconnectLater() {
  setTimeout(() => follow([]), reconnectDelay);
  reconnectDelay = Math.min(reconnectDelay * 2, 10_000);
}

function forget(id) {
  removed.add(id);
  rows.get(id)?.remove();
  rows.delete(id);
}

async function follow(ids) {
  if (ids.length === 0 && unfinishedIds().length === 0) return;
  if (socket && socket.readyState === WebSocket.OPEN) {
    if (ids.length === 0) return;
    socket.send(JSON.stringify({ subscribe: ids }));
    return;
  }
  for (const id of ids) pending.add(id);
  if (connecting) return;
  connecting = true;
  // A short-lived ticket opens the socket: the key itself never goes into a URL.
  let ticket;
  try {
    ({ ticket } = await call('POST', '/tickets'));
  } catch {
    connecting = false;
    reconnectLater();
    return;
  }
  socket = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws?ticket=${encodeURIComponent(ticket)}`);
  socket.addEventListener('open', () => {
    connecting = false;
    reconnectDelay = 500;
    const subscribe = [...new Set([...unfinishedIds(), ...pending])];
    pending.clear();
    if (subscribe.length > 0) socket.send(JSON.stringify({ subscribe }));
  });
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'status') render(message);
    // Deleted elsewhere (another tab, kubectl): the row goes, as after our own Delete.
    else if (message.type === 'deleted') forget(message.job_id);
    else if (message.type === 'error' && !message.job_id) showError(message.detail);
  });
  // The server closes with 1000 once everything followed has finished, and
  // with 1008 when told to stop (too many subscribe messages); any other close
  // (an API restart, a network blip) reconnects, and the resubscribe on open
  // brings the current state of every unfinished row.
  socket.addEventListener('close', (event) => {
    connecting = false;
    if (event.code === 1000 || event.code === 1008) return;
    reconnectLater();
  });
}

async function load() {
  showError('');
  if (!apiKey()) return showError('Enter your API key first.');
  try {
    const { items } = await call('GET', '/downloads?limit=50');
    for (const status of [...items].reverse()) render(status);
    follow(items.filter((s) => !['DONE', 'FAILED'].includes(s.state)).map((s) => s.job_id));
  } catch (error) {
    showError(error.message);
  }
}

async function remove(id) {
  try {
    await call('DELETE', `/downloads/${id}`);
    forget(id);
  } catch (error) {
    showError(error.message);
  }
}

async function saveFile(id) {
  try {
    const result = await call('GET', `/result/${id}`);
    // A file written onto a volume has no link: say where it lies instead.
    if (result.volume) {
      showError(`${result.filename} is on volume ${result.volume.claim_name} at ${result.volume.path}`);
      return;
    }
    const link = document.createElement('a');
    link.href = result.url;
    link.download = result.filename;
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    showError(error.message);
  }
}

document.querySelector('#key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  localStorage.setItem('vdl-api-key', keyInput.value.trim());
  for (const row of rows.values()) row.remove();
  rows.clear();
  load();
});

document.querySelector('#submit-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  showError('');
  const preset = document.querySelector('#preset').value;
  const body = { url: document.querySelector('#url').value.trim() };
  if (preset.startsWith('audio-')) body.audio = { extract: true, format: preset.slice(6) };
  else body.format = { preset };
  if (document.querySelector('#subtitles').checked) body.subtitles = { languages: ['en'], embed: true };
  try {
    const accepted = await call('POST', '/download', body);
    render({
      job_id: accepted.job_id,
      state: accepted.state,
      url: body.url,
      title: null,
      progress: {},
      error: null,
    });
    follow([accepted.job_id]);
    document.querySelector('#url').value = '';
  } catch (error) {
    showError(error.message);
  }
});

load();
