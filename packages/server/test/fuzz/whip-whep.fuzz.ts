/**
 * Target `whip-whep` (HTTP, in-process server): the WHIP ingest and WHEP egress resources as a broadcaster's tool or
 * a player would call them, and as they should not.
 *
 * Inputs: `POST /whip` (offer body, `?processor=&params=` query), `OPTIONS /whip`, `PATCH` and `DELETE /whip/:id`,
 * `POST /sessions/:id/whep`, `PATCH` and `DELETE /sessions/:id/whep/:viewer` — aimed at the live WHIP session and
 * WHEP viewer, another key's, or made-up ids — with valid, mutated, empty, binary and oversized bodies; right and
 * wrong credentials and content types; `If-Match` right, wrong and odd.
 *
 * Invariant (FuzzServer.check): no 5xx but the documented refusals (501 for an ICE restart by PATCH, 503 at
 * capacity), every error `{error: {code, message}}` with its code's status. Sessions and viewers opened are ended.
 */
import fc from 'fast-check';
import { fuzzTarget } from './fuzz-target.js';
import { authHeaders, contentType, encode, headers, headerValue } from './http-common.js';
import { mutatedLines, mutatedText, weirdString } from './mutators.js';
import { SDP_SAMPLES, SDPFRAG_SAMPLES, sdpfragLine, sdpLine, WHEP_OFFER } from './samples.js';

/** Placeholders filled in at request time with the live resources (they may be reopened between inputs). */
const WHIP_ID = '<whip>';
const SESSION_ID = '<session>';
const VIEWER_ID = '<viewer>';

export const fuzzWhipWhep = fuzzTarget('whip-whep', { server: true }, async ({ tally, server }) => {
  const offers = [...server.offers, ...SDP_SAMPLES];
  const id = (live: string): fc.Arbitrary<string> =>
    fc.oneof({ weight: 6, arbitrary: fc.constant(live) }, fc.uuid(), weirdString(60).map(encode), fc.constantFrom('%00', '%ff', '..', '%2F', 'a%20b', '', ' '));
  const body = (kind: 'sdp' | 'frag'): fc.Arbitrary<string | Buffer> =>
    fc.oneof(
      { weight: 5, arbitrary: kind === 'sdp' ? fc.constantFrom(...offers, WHEP_OFFER) : fc.constantFrom(...SDPFRAG_SAMPLES) },
      { weight: 4, arbitrary: kind === 'sdp' ? mutatedLines(offers, sdpLine(), 3) : mutatedLines(SDPFRAG_SAMPLES, sdpfragLine()) },
      mutatedText(kind === 'sdp' ? offers : SDPFRAG_SAMPLES, undefined, 2),
      fc.constantFrom('', '\r\n', 'v=0'),
      fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b)),
      fc.integer({ min: 65_000, max: 70_000 }).map((n) => `v=0\r\n${'a=x\r\n'.repeat(Math.ceil(n / 5))}`),
    );
  const query = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('', '?processor=null', '?processor=stats&params=%7B%22step%22%3A4%7D') },
    fc
      .record({ processor: weirdString(70), params: weirdString(40) }, { requiredKeys: [] })
      .map((q) => `?${new URLSearchParams(q as Record<string, string>).toString()}`),
    fc.constantFrom(
      '?params=%7B',
      '?params=null',
      '?params=%5B1%5D',
      '?processor=nope',
      '?processor=face&processor=null',
      '?x=1',
      '?%ff',
      '?params=%7B%22min_score%22%3A9%7D',
    ),
  );
  const ifMatch = fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    fc.constantFrom('*', `"${WHIP_ID}"`, WHIP_ID, '"nope"', '', 'W/"x"'),
    headerValue(),
  );
  const request = fc.oneof(
    fc.record({ op: fc.constant('whip-post' as const), query, body: body('sdp'), type: contentType('application/sdp'), auth: authHeaders() }),
    fc.record({ op: fc.constant('whip-options' as const), auth: authHeaders() }),
    fc.record({
      op: fc.constant('whip-patch' as const),
      id: id(WHIP_ID),
      body: body('frag'),
      type: contentType('application/trickle-ice-sdpfrag'),
      auth: authHeaders(),
      ifMatch,
    }),
    fc.record({ op: fc.constant('whip-delete' as const), id: id(`${WHIP_ID}-not`), auth: authHeaders() }),
    fc.record({ op: fc.constant('whep-post' as const), id: id(SESSION_ID), body: body('sdp'), type: contentType('application/sdp'), auth: authHeaders() }),
    fc.record({
      op: fc.constant('whep-patch' as const),
      id: id(SESSION_ID),
      viewer: id(VIEWER_ID),
      body: body('frag'),
      type: contentType('application/trickle-ice-sdpfrag'),
      auth: authHeaders(),
    }),
    fc.record({ op: fc.constant('whep-delete' as const), id: id(SESSION_ID), viewer: id(`${VIEWER_ID}-not`), auth: authHeaders() }),
  );

  return {
    property: fc.asyncProperty(request, async (r) => {
      const whip = await server.liveWhip();
      const session = await server.liveSession();
      const viewer = (await server.liveViewer()).split('/').pop()!;
      // The live resources' own DELETE would end them for every later input: those ids get a suffix (a 404).
      const fill = (s: string): string =>
        s
          .split(`${WHIP_ID}-not`)
          .join(`${whip.id}x`)
          .split(WHIP_ID)
          .join(whip.id)
          .split(`${VIEWER_ID}-not`)
          .join(`${viewer}x`)
          .split(VIEWER_ID)
          .join(viewer)
          .split(SESSION_ID)
          .join(session);
      try {
        switch (r.op) {
          case 'whip-post':
            await server.request(tally, { method: 'POST', url: `/whip${r.query}`, headers: headers({ ...r.auth, 'content-type': r.type }), payload: r.body });
            return;
          case 'whip-options':
            await server.request(tally, { method: 'OPTIONS', url: '/whip', headers: r.auth });
            return;
          case 'whip-patch':
            await server.request(tally, {
              method: 'PATCH',
              url: `/whip/${fill(r.id)}`,
              headers: headers({ ...r.auth, 'content-type': r.type, 'if-match': r.ifMatch === undefined ? undefined : fill(r.ifMatch) }),
              payload: r.body,
            });
            return;
          case 'whip-delete':
            await server.request(tally, { method: 'DELETE', url: `/whip/${fill(r.id)}`, headers: r.auth });
            return;
          case 'whep-post':
            await server.request(tally, {
              method: 'POST',
              url: `/sessions/${fill(r.id)}/whep`,
              headers: headers({ ...r.auth, 'content-type': r.type }),
              payload: r.body,
            });
            return;
          case 'whep-patch':
            await server.request(tally, {
              method: 'PATCH',
              url: `/sessions/${fill(r.id)}/whep/${fill(r.viewer)}`,
              headers: headers({ ...r.auth, 'content-type': r.type }),
              payload: r.body,
            });
            return;
          case 'whep-delete':
            await server.request(tally, { method: 'DELETE', url: `/sessions/${fill(r.id)}/whep/${fill(r.viewer)}`, headers: r.auth });
            return;
        }
      } finally {
        server.endOpened();
      }
    }),
    after: async () => {
      const left = await server.settle();
      return left > 0 ? [`${left} sessions opened by WHIP posts are still live after they were ended`] : [];
    },
  };
});
