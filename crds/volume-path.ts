// The path of a download's file on a volume, from a template such as
// "{uploader}/{title} [{id}].{ext}": checked once (the schema and the API
// refuse a bad one by name), rendered by the downloader from yt-dlp's info
// JSON. Values are the site's, so each is made safe as a single path segment
// here, not trusted: a title of "../../etc" stays one harmless folder name.

/**
 * The fields a template may name: yt-dlp's output template fields that media
 * libraries lay files out by, and upload_year/month/day from upload_date.
 */
export const volumePathFields = [
  'id',
  'title',
  'fulltitle',
  'ext',
  'uploader',
  'uploader_id',
  'channel',
  'channel_id',
  'upload_date',
  'upload_year',
  'upload_month',
  'upload_day',
  'release_date',
  'extractor',
  'extractor_key',
  'webpage_url_domain',
  'display_id',
  'playlist',
  'playlist_id',
  'playlist_title',
  'playlist_index',
  'series',
  'season',
  'season_number',
  'episode',
  'episode_number',
  'album',
  'artist',
  'track',
  'track_number',
  'creator',
  'format_id',
  'resolution',
  'height',
  'width',
  'language',
] as const;
export type VolumePathField = (typeof volumePathFields)[number];

export const defaultVolumePathTemplate = '{uploader}/{title} [{id}].{ext}';

/** The longest rendered path in bytes: far inside PATH_MAX, and status and the termination message keep it whole. */
export const maxVolumePathBytes = 1024;

/**
 * The hidden copy a download writes at the volume's root before it links the
 * file into place: named by the download's uid, so a retried pod writes over
 * its own and the cleanup Job removes one a killed pod left.
 */
export function partialFileName(downloadUid: string): string {
  return `.vdl-${downloadUid.replace(/[^A-Za-z0-9-]/g, '')}.part`;
}

/** What yt-dlp writes for a field the site does not give. */
export const missingValue = 'NA';

/** The longest path segment in bytes: most file systems (ext4, XFS, NTFS, SMB) stop at 255. */
export const maxSegmentBytes = 240;

/** Literal text a template may hold besides its {fields}: no control characters, backslashes or quotes. */
const literalCharacters = "A-Za-z0-9 ()\\[\\]._,+&@!#'=~/-";

/** Literal text and known {fields}, nothing else: the schema's pattern, which the API server checks too. */
export const volumePathPattern = `^([${literalCharacters}]|\\{(${volumePathFields.join('|')})\\})+$`;

/** CEL for what the pattern cannot say: relative, no empty, "." or ".." segments, {ext} in the file name. */
export const volumePathRule =
  "!self.startsWith('/') && !self.split('/').exists(s, s == '' || s == '.' || s == '..') && self.split('/')[self.split('/').size() - 1].contains('{ext}')";

const fieldPattern = /\{([^{}]*)\}/g;

/** Why a template cannot be used; undefined when it can. */
export function volumePathRefusal(template: string): string | undefined {
  for (const [, name] of template.matchAll(fieldPattern)) {
    if (!(volumePathFields as readonly string[]).includes(name as string))
      return `storage.volume.path names {${name}}, which is not a field it knows: ${volumePathFields.join(', ')}`;
  }
  if (!new RegExp(volumePathPattern).test(template))
    return "storage.volume.path may hold letters, digits, spaces, {fields} and ()[]._,+&@!#'=~/- only";
  return volumeSegmentsRefusal(template);
}

/** The part of the refusal volumePathRule says in CEL. */
export const volumeSegmentsMessage =
  'storage.volume.path must be relative, without empty, "." or ".." segments, and end in a file name holding {ext} (the file\'s own extension)';

function volumeSegmentsRefusal(template: string): string | undefined {
  const segments = template.split('/');
  if (
    template.startsWith('/') ||
    segments.some((segment) => segment === '' || segment === '.' || segment === '..')
  )
    return volumeSegmentsMessage;
  if (!(segments.at(-1) as string).includes('{ext}')) return volumeSegmentsMessage;
  return undefined;
}

/** A value as one path segment: no separators, control characters, leading dots or trailing spaces. */
export function sanitizedSegment(value: string): string {
  const cleaned = value
    .normalize('NFC')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed.
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    // Separators and what Windows and SMB shares refuse in a name.
    .replace(/[/\\:*?"<>|]/g, '_')
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
  return cleaned === '' ? '_' : cleaned;
}

/** The text cut to at most maxBytes of UTF-8, never inside a character. */
function cutToBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let cut = '';
  for (const character of text) {
    bytes += Buffer.byteLength(character);
    if (bytes > maxBytes) break;
    cut += character;
  }
  return cut;
}

/**
 * A segment of literal text and values within maxSegmentBytes: the longest
 * value is cut first, so a long title loses its tail, not the " [{id}]" or
 * the extension beside it. Literal text alone over the limit is cut at its end.
 */
function boundedSegment(parts: Array<{ text: string; value: boolean }>): string {
  const size = () => parts.reduce((total, part) => total + Buffer.byteLength(part.text), 0);
  for (let excess = size() - maxSegmentBytes; excess > 0; excess = size() - maxSegmentBytes) {
    const longest = parts
      .filter((part) => part.value && part.text.length > 1)
      .sort((a, b) => Buffer.byteLength(b.text) - Buffer.byteLength(a.text))[0];
    if (!longest) return cutToBytes(parts.map((part) => part.text).join(''), maxSegmentBytes);
    longest.text =
      cutToBytes(longest.text, Math.max(1, Buffer.byteLength(longest.text) - excess)).trimEnd() || '_';
  }
  return parts.map((part) => part.text).join('');
}

/** The field's value from yt-dlp's info JSON as text; missingValue when the site gives none. */
export function fieldValue(info: Record<string, unknown>, field: VolumePathField, ext: string): string {
  if (field === 'ext') return ext;
  const date =
    typeof info.upload_date === 'string' ? info.upload_date.match(/^(\d{4})(\d{2})(\d{2})$/) : null;
  if (field === 'upload_year') return date?.[1] ?? missingValue;
  if (field === 'upload_month') return date?.[2] ?? missingValue;
  if (field === 'upload_day') return date?.[3] ?? missingValue;
  const value = info[field];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return missingValue;
}

/**
 * The file's path under the volume's root for a checked template. Each
 * {field} is made safe on its own before it joins the literal text, so a
 * value can neither add a folder nor climb out of one.
 */
export function renderVolumePath(template: string, info: Record<string, unknown>, ext: string): string {
  return template
    .split('/')
    .map((segment) => {
      const parts: Array<{ text: string; value: boolean }> = [];
      let at = 0;
      for (const match of segment.matchAll(fieldPattern)) {
        if (match.index > at) parts.push({ text: segment.slice(at, match.index), value: false });
        const value = sanitizedSegment(fieldValue(info, match[1] as VolumePathField, ext));
        parts.push({ text: value, value: match[1] !== 'ext' });
        at = match.index + match[0].length;
      }
      if (at < segment.length) parts.push({ text: segment.slice(at), value: false });
      return sanitizedSegment(boundedSegment(parts));
    })
    .join('/');
}

/** Why a recorded path is not one a template could render (absolute, climbing, empty segments). */
export function volumePathOutside(path: string): string | undefined {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0'))
    return `the result names path ${JSON.stringify(path)}, not one relative to the volume`;
  if (path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..'))
    return `the result names path ${JSON.stringify(path)}, outside the volume`;
  return undefined;
}
