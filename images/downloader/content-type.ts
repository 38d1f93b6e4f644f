// The Content-Type stored with a file, from its extension.
const types: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mkv: 'video/x-matroska',
  webm: 'video/webm',
  mov: 'video/quicktime',
  flv: 'video/x-flv',
  ts: 'video/mp2t',
  m4a: 'audio/mp4',
  mp3: 'audio/mpeg',
  opus: 'audio/ogg',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  flac: 'audio/flac',
  wav: 'audio/wav',
  aac: 'audio/aac',
  vtt: 'text/vtt',
  srt: 'application/x-subrip',
  json: 'application/json',
};

export function contentTypeOf(filename: string): string {
  const extension = filename.split('.').pop()?.toLowerCase() ?? '';
  return types[extension] ?? 'application/octet-stream';
}
