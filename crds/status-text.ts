// Text that goes into a VideoDownload's status: printable, bounded, and free
// of the pod's file paths. The downloader and the operator both pass every
// message through here, so a page or a tool's output cannot put raw bytes,
// terminal escapes or a 1 MB line into a status that kubectl and the web page show.

/** Longest status.message and condition message vdl writes, in UTF-16 code units (what the schema counts). */
export const maxMessageLength = 1024;

// Control characters (C0, DEL, C1), unpaired surrogates, private use,
// unassigned code points, U+FFFD (the trace of undecodable bytes) and
// format characters such as bidi overrides, which make text read other than it is.
const unprintable = /[\p{Cc}\p{Cs}\p{Co}\p{Cn}\p{Cf}\uFFFD]+/gu;
// An absolute path where a word starts (after a space, a quote, a bracket or
// =), not the path part of a URL: "https://host/a/b" has a letter before /a.
const absolutePath = /(^|[\s'"`([{=,:;])\/(?!\/)[^\s'"`()[\]{},;]*/g;

function shorten(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  const ellipsis = '…';
  let end = Math.max(0, maxLength - ellipsis.length);
  // Never cut a surrogate pair in half.
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}${ellipsis}`;
}

/** Printable text of at most maxLength UTF-16 code units: unprintable runs become one space. */
export function printableText(text: string, maxLength: number): string {
  const printable = text.replace(unprintable, ' ').replace(/\s+/g, ' ').trim();
  return shorten(printable, maxLength);
}

/** A message for status: printable, bounded, each absolute file path cut to its last segment. */
export function statusMessage(text: string, maxLength = maxMessageLength): string {
  // Bounded before the path regex runs over it; cutting paths only shortens it.
  const printable = printableText(text, 4 * maxLength);
  const withoutPaths = printable.replace(
    absolutePath,
    (path, before: string) => `${before}${path.slice(before.length).split('/').filter(Boolean).pop() ?? ''}`,
  );
  return shorten(withoutPaths, maxLength) || 'no message';
}
