/**
 * Pieces the HTTP targets share: how a request authenticates (the keys, as header or Bearer, and the ways to get it
 * wrong) and the content types a body may claim.
 */
import fc from 'fast-check';
import { KEY, LIMITED_KEY, OTHER_KEY } from './fuzz-server.js';
import { weirdString } from './mutators.js';

/** Credentials headers: mostly the right key, sometimes another tenant's, a limited one, or a broken header. */
type Headers = Record<string, string>;

export const authHeaders = (): fc.Arbitrary<Headers> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant({ 'api-key': KEY }) },
    { weight: 4, arbitrary: fc.constant({ authorization: `Bearer ${KEY}` }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...([{ 'api-key': OTHER_KEY }, { 'api-key': LIMITED_KEY }, { authorization: `Bearer ${LIMITED_KEY}` }] as Headers[])),
    },
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.constant<Headers>({}),
        fc.constantFrom(
          ...([
            { authorization: `bearer ${KEY}` },
            { authorization: `Bearer  ${KEY}` },
            { authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}` },
            { authorization: 'Bearer' },
            { authorization: '' },
            { 'api-key': '' },
            { 'api-key': `${KEY} ` },
            { 'api-key': KEY, authorization: 'Bearer nope' },
          ] as Headers[]),
        ),
        weirdString(40)
          .filter((s) => /^[\t\x20-\x7e\x80-\xff]*$/.test(s))
          .map((k) => ({ 'api-key': k })),
      ),
    },
  );

/** A content type: usually `want` (maybe with parameters or in capitals), sometimes another or none. */
export const contentType = (want: string): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 10, arbitrary: fc.constant(want) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        `${want}; charset=utf-8`,
        want.toUpperCase(),
        `${want};charset=latin1`,
        `${want}, application/json`,
        'application/json',
        'application/sdp',
        'application/trickle-ice-sdpfrag',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        '*/*',
        '',
        ';',
        undefined,
      ),
    },
  );

/** A header value Node will send (latin-1, no line breaks). */
export const headerValue = (): fc.Arbitrary<string> => weirdString(40).filter((s) => /^[\t\x20-\x7e\x80-\xff]*$/.test(s));

/** Drops undefined values (an absent header). */
export const headers = (h: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => e[1] !== undefined));

/** `encodeURIComponent` that takes any string: lone surrogates become U+FFFD first (as a browser would send them). */
export const encode = (s: string): string => encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
