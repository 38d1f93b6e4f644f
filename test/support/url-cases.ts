// URLs for the CRD's URL rule and the API's: the unit test
// (test/contract/url-rule.test.ts) checks the pattern against zod in
// JavaScript, test/integration/crd-url.test.ts the CEL rule on the real API server.
import { videoDownloadCrd } from '../../crds/crd.ts';
import { urlPattern } from '../../crds/url-rule.ts';
import { VideoDownloadSpec } from '../../crds/video-download.ts';

const urlSchema = (
  videoDownloadCrd() as {
    spec: {
      versions: {
        schema: { openAPIV3Schema: { properties: { spec: { properties: { url: { pattern: string } } } } } };
      }[];
    };
  }
).spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties.url;

/** The CRD's checks of spec.url (its pattern, then its CEL rule's), run by JavaScript's regular expressions. */
export const crdAccepts = (url: string) =>
  new RegExp(urlSchema?.pattern as string).test(url) && new RegExp(urlPattern).test(url);
/** The API's rule: the canonical URL it stores, or undefined when it refuses. */
export function apiStores(url: string): string | undefined {
  const parsed = VideoDownloadSpec.safeParse({ url });
  return parsed.success ? parsed.data.url : undefined;
}

/** URLs both refuse: what the issue named, and each part of a URL done wrong. */
export const refusedUrls = [
  'https://',
  'https://exa mple.com/x',
  'http://',
  'http://user@/x',
  'http://:80/',
  'ftp://e.com/v',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'e.com/v',
  '//e.com/v',
  'http://e.com:65536/',
  'http://e.com:99999/',
  'http://e.com:8a/',
  'http://e.com:-1/',
  'http://e.com:80:80/',
  'http://[zz]/',
  'http://[::1/',
  'http://[1::2::3]/',
  'http://[1:2:3:4:5:6:7:8:9]/',
  'http://[fe80::1%25eth0]/',
  'http://[::1.2.3.256]/',
  'http://1.2.3.4.5/',
  'http://256.1.1.1/',
  'http://4294967296/',
  'http://e.123/',
  'http://e.0x/',
  'http://e.0x1f/',
  'http://a%25b.com/',
  'http://a<b.com/',
  'http://a>b.com/',
  'http://a^b.com/',
  'http://a|b.com/',
  'http://a[b.com/',
  'http://e.com\\x',
  'http://e.com/\u0000',
];

/** URLs both accept, as the API stores them. */
export const acceptedUrls = [
  'https://e.com',
  'https://example.com/watch?v=1',
  'http://e.com:8080/a/b?c=d#e',
  'http://e.com:/x',
  'http://e.com:0/',
  'http://e.com:65535/',
  'http://e.com:00080/',
  'http://user:pass@e.com/',
  'http://a@b@e.com/',
  'https://videos.example/a b/é',
  'https://e.com/%zz',
  'http://[::1]/',
  'http://[2001:db8::1]:8080/',
  'http://[::ffff:1.2.3.4]/',
  'http://[1:2:3:4:5:6:7:8]/',
  'http://127.0.0.1:9000/v.mp4',
  'http://localhost/',
  'http://a_b.com/',
  'http://-a-.com/',
  'http://a..b/',
  'http://e.com./',
  'http://xn--bcher-kva.example/',
  'http://e.0x1g/',
  'http://e.1a/',
  'http://e.a1/',
  'http://e.x1/',
  'http://e.00x1/',
  'http://e.1x1/',
  'http://e.0xx/',
  'HTTPS://E.COM/V',
];

/** URLs the API takes and rewrites; the CRD, which cannot rewrite, refuses them. Its canonical form passes. */
export const rewrittenUrls = [
  'http:e.com/v',
  'https:/e.com/v',
  'https:///e.com',
  ' https://e.com/v',
  'https://bücher.example/',
  'http://0x7f.1/',
  'http://127.1/',
  'http://1.2.3.4./',
  'http://exa%41mple.com/',
];

// Host and port pieces that each parser reads its own way.
const oddPieces = [
  'a',
  'e',
  'x',
  '0',
  '1',
  '9',
  '255',
  '256',
  '0x',
  'f',
  '.',
  '-',
  '_',
  '%',
  '%41',
  '%25',
  ':',
  '[',
  ']',
  '::',
  '@',
  '<',
  '^',
  '|',
  '{',
  '!',
  '~',
  ' ',
  'é',
  'xn--',
];

/** count http URLs with odd hosts (and ports, every other one), the same ones for the same seed. */
export function oddUrls(count: number, seed: number): string[] {
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  return Array.from({ length: count }, (_, i) => {
    const host = Array.from(
      { length: 1 + Math.floor(random() * 6) },
      () => oddPieces[Math.floor(random() * oddPieces.length)],
    ).join('');
    return `http://${host}${i % 2 ? `:${Math.floor(random() * 70_000)}` : ''}/v`;
  });
}

/** Everything above, for one import. */
export const urlCases = {
  refused: refusedUrls,
  accepted: acceptedUrls,
  rewritten: rewrittenUrls,
  apiStores,
  crdAccepts,
  oddUrls,
};
