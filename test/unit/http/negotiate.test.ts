/** Content negotiation of /status (src/http/negotiate.ts): a table of Accept headers and `?format=`. */
import t from 'tap';
import { acceptQualities, statusFormat } from '../../../src/http/negotiate.js';

const CHROMIUM =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,' +
  'application/signed-exchange;v=b3;q=0.7';
const FIREFOX = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

const rows: [accept: string | undefined, format: string | undefined, want: 'html' | 'json', why: string][] = [
  [CHROMIUM, undefined, 'html', 'Chromium navigating'],
  [FIREFOX, undefined, 'html', 'Firefox navigating'],
  [undefined, undefined, 'json', 'no Accept (curl without -H, scripts)'],
  ['*/*', undefined, 'json', 'curl and fetch() defaults'],
  ['application/json', undefined, 'json', 'asks for JSON'],
  ['application/json, text/html', undefined, 'json', 'a tie goes to JSON'],
  ['text/html;q=0.5, application/json', undefined, 'json', 'prefers JSON'],
  ['text/html, application/json;q=0.9', undefined, 'html', 'prefers HTML'],
  ['text/html;q=0', undefined, 'json', 'q=0 refuses HTML'],
  ['TEXT/HTML', undefined, 'html', 'media ranges are case-insensitive'],
  ['text/*', undefined, 'json', 'wildcards do not ask for the page'],
  [CHROMIUM, 'json', 'json', '?format=json forces JSON'],
  ['application/json', 'html', 'html', '?format=html forces the page'],
  [CHROMIUM, 'xml', 'html', 'an unknown format is ignored'],
  ['text/html;q=abc', undefined, 'json', 'a malformed q counts as 0'],
  [',,;', undefined, 'json', 'garbage'],
];

for (const [accept, format, want, why] of rows) {
  t.equal(statusFormat(accept, format), want, `${why}: ${JSON.stringify(accept)} ${format ?? ''}`);
}

t.same(
  [...acceptQualities('text/html;level=1;q=0.7, text/html;q=0.2, application/json;q=2')],
  [
    ['text/html', 0.7],
    ['application/json', 1],
  ],
  'highest q per range; q clamped to [0, 1]',
);
