// Readable one-line logs of every part for `make dev`: pino JSON becomes
// "HH:MM:SS part  level  message key=value".
const levels: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const skipped = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'component', 'identity']);

export function readableLine(part: string, line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${part.padEnd(10)} ${line}`;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 19) : '';
  const fields = Object.entries(entry)
    .filter(([key]) => !skipped.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${time} ${part.padEnd(10)} ${(levels[entry.level as number] ?? '').padEnd(5)} ${String(entry.msg ?? '')} ${fields}`.trimEnd();
}
