// The CRD's rule for spec.url: what the API's zod rule (the WHATWG URL parser,
// http or https) refuses, the API server refuses too, so `kubectl apply` gets
// the API's rule and a message naming the field.
//
// Not CEL's isURL: it is Go's url.ParseRequestURI, which takes "https://"
// (no host), ports above 65535 and "<" in host names, all of which the WHATWG
// parser refuses, and refuses a "%zz" in a path, which the WHATWG parser keeps
// (so a URL the API stored would be refused). A regular expression written
// after the WHATWG host rules instead, for the canonical form the API stores:
// scheme "://" [userinfo "@"] host [":" port] [path, query, fragment].
// Stricter than the API for spellings the API rewrites into that form before
// it stores them (host names outside ASCII, which the API stores in their
// xn-- form; "http:example.com"; IPv4 addresses not in dotted decimal such as
// 0x7f.1; leading blanks), since the API server cannot rewrite them.

/** The schemes a download URL may have, for the API's zod rule and the CRD's CEL rule alike. */
export const urlSchemes = ['http', 'https'] as const;

/** What the API and the API server both say of a URL they refuse. */
export const urlRefusal = 'url must be an http or https URL';

const hex = '[0-9A-Fa-f]';
const h16 = `${hex}{1,4}`;
const decOctet = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const ipv4 = `(${decOctet}\\.){3}${decOctet}`;

/** RFC 3986's IPv6address, which the WHATWG IPv6 parser accepts too (no zone IDs). */
function ipv6(): string {
  const ls32 = `(${h16}:${h16}|${ipv4})`;
  const repeat = (n: number) => (n === 0 ? '' : `(${h16}:){${n}}`);
  // [ up to `before` h16 ":" then h16 ] "::" then `after` h16 ":" and a tail
  const elided = (before: number, after: number, tail: string) =>
    `((${before === 0 ? '' : `(${h16}:){0,${before}}`}${h16})?::${repeat(after)}${tail})`;
  return [
    `(${repeat(6)}${ls32})`,
    `(::${repeat(5)}${ls32})`,
    elided(0, 4, ls32),
    elided(1, 3, ls32),
    elided(2, 2, ls32),
    elided(3, 1, ls32),
    elided(4, 0, ls32),
    elided(5, 0, h16),
    elided(6, 0, ''),
  ].join('|');
}

// ASCII a WHATWG host name may hold: all but blanks, controls and % : < > [ ] ^ |,
// and the # / ? @ \ that end a host.
const nameChar = '[!"$&\'()*+,0-9;=A-Z_`a-z{}~-]';
const hexOrX = '[0-9A-Fa-fxX]';
const x = '[xX]';
// A host whose last label is a number (digits, or 0x and hex digits) is read
// as an IPv4 address by the WHATWG parser: "e.123" and "1.2.3.4.5" are
// refused. So a name's last label is anything else; RE2 has no lookahead, so
// "anything else" is spelled out: a character no number has; or two x; or an x
// not right after a leading 0; or only hex digits with a letter among them.
const lastLabel = [
  `${nameChar}*[!"$&'()*+,;=G-WYZ_\`g-wyz{}~-]${nameChar}*`,
  `${hexOrX}*${x}${hexOrX}*${x}${hexOrX}*`,
  `${x}${hex}*`,
  `${hex}{2,}${x}${hex}*`,
  `[1-9A-Fa-f]${x}${hex}*`,
  `${hex}*[A-Fa-f]${hex}*`,
].join('|');
// Empty labels are allowed ("a..b", even "."): a host that ends in ".." has an empty last label.
const hostName = `(${nameChar}*\\.)*(${lastLabel})\\.?|(${nameChar}*\\.)*\\.`;
const port = '0*([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';

/** The whole URL, for RE2 (CEL's matches) and JavaScript alike. */
export const urlPattern =
  `^(?i:${urlSchemes.join('|')})://([^/?#]*@)?(\\[(${ipv6()})\\]|${ipv4}|${hostName})` +
  `(:(${port})?)?([/?#].*)?$`;

/** The CEL rule of spec.url, with a message that names the field and shows the value. */
/** The CEL rule of a URL field, named by its path in the messages (spec.url, spec.notify.url). */
export function urlValidationFor(path: string) {
  const refusal = `${path} must be an http or https URL`;
  return {
    // A raw triple-quoted CEL string: the pattern holds both kinds of quote.
    rule: `self.matches(r'''${urlPattern}''')`,
    messageExpression: `'${refusal} with a host name (international names in their xn-- form), not "' + (self.size() > 100 ? self.substring(0, 100) + '...' : self) + '"'`,
    message: `${refusal} with a host name`,
  };
}

export const urlValidation = urlValidationFor('spec.url');
