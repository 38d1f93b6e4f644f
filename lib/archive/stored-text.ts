// Text as the archive stores it. PostgreSQL's text refuses NUL and its UTF-8
// cannot hold a lone surrogate, yet a title or URL in a resource may have
// either (JSON allows both). Stored as JSON string contents ("\u0000",
// "\ud800", "\\"), every string goes in and comes back exactly, and a search
// term encoded the same way finds it.

/** The text as stored: JSON's escapes for what PostgreSQL cannot hold, and for backslashes and quotes. */
export function storedText(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** The text storedText() was given. */
export function textFromStored(stored: string): string {
  return JSON.parse(`"${stored}"`) as string;
}

/** A LIKE pattern that finds term anywhere in stored text (its %, _ and \ matched literally). */
export function containsPattern(term: string): string {
  return `%${storedText(term).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
