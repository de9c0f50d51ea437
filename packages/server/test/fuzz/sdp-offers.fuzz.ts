/**
 * Target `sdp-offers` (HTTP, in-process server): mutated SDP offers all the way into the engine (libdatachannel's
 * own SDP parser, the codec choice, track setup), by the routes that take one: `POST /webrtc/offer` (JSON, trickle or
 * not, with or without video back; or with the live session's `session_id`: it resumes on a new connection),
 * `POST /whip` (application/sdp) and `POST /sessions/:id/whep` (a viewer of the live session).
 *
 * Inputs: the fixture offers (Chromium, libdatachannel, WHEP) and the Node publisher's fresh ones, mutated by line
 * (dropped, duplicated, swapped, truncated lines; numbers made huge or malformed; values replaced; unknown codecs;
 * repeated blocks, so many m-lines; other line endings), by character, and by consistent rewrites (a payload type
 * renumbered everywhere, a mid renamed or duplicated in its section and the BUNDLE group, a codec renamed, a
 * direction changed).
 *
 * Invariant (FuzzServer.check): no 5xx but the documented refusals, every error `{error: {code, message}}`; a 2xx is
 * an SDP answer. Every session and viewer opened is ended, and none is left behind.
 */
import fc from 'fast-check';
import { expect, fuzzTarget } from './fuzz-target.js';
import { KEY } from './fuzz-server.js';
import { mutatedLines, mutatedText } from './mutators.js';
import { sdpInput } from './sdp-parsers.fuzz.js';
import { rewrittenSdp, SDP_SAMPLES, sdpLine } from './samples.js';

export const fuzzSdpOffers = fuzzTarget('sdp-offers', { server: true }, async ({ tally, server }) => {
  const samples = [...SDP_SAMPLES, ...server.offers];
  const sdp = fc.oneof(
    { weight: 6, arbitrary: mutatedLines(samples, sdpLine(), 3) },
    { weight: 3, arbitrary: rewrittenSdp(samples) },
    { weight: 1, arbitrary: rewrittenSdp(samples).chain((s) => mutatedLines([s], sdpLine(), 2)) },
    { weight: 1, arbitrary: mutatedText(samples, undefined, 2) },
    { weight: 1, arbitrary: sdpInput(samples).map((i) => i.sdp) },
  );
  const request = fc.record({
    sdp,
    route: fc.constantFrom('offer', 'offer', 'offer', 'whip', 'whep', 'resume'),
    trickle: fc.boolean(),
    mode: fc.constantFrom(undefined, 'results', 'both'),
    processor: fc.constantFrom('null', 'stats'),
  });
  return {
    property: fc.asyncProperty(request, async (r) => {
      try {
        let res;
        if (r.route === 'offer' || r.route === 'resume') {
          const body = {
            sdp: r.sdp,
            type: 'offer',
            trickle: r.trickle,
            processor: r.processor,
            ...(r.mode ? { mode: r.mode } : {}),
            ...(r.route === 'resume' ? { session_id: await server.liveSession() } : {}),
          };
          res = await server.request(tally, {
            method: 'POST',
            url: '/webrtc/offer',
            headers: { 'content-type': 'application/json', 'api-key': KEY },
            payload: JSON.stringify(body),
          });
        } else if (r.route === 'whip') {
          const url = `/whip?processor=${r.processor}`;
          res = await server.request(tally, {
            method: 'POST',
            url,
            headers: { 'content-type': 'application/sdp', authorization: `Bearer ${KEY}` },
            payload: r.sdp,
          });
        } else {
          const url = `/sessions/${await server.liveSession()}/whep`;
          res = await server.request(tally, { method: 'POST', url, headers: { 'content-type': 'application/sdp', 'api-key': KEY }, payload: r.sdp });
        }
        if (res.statusCode < 300) {
          const answer = r.route === 'offer' || r.route === 'resume' ? (res.json() as { sdp: string }).sdp : res.body;
          expect(typeof answer === 'string' && answer.startsWith('v=0'), 'a 2xx carries no SDP answer', res.body);
        }
      } finally {
        server.endOpened();
      }
    }),
    after: async () => {
      const left = await server.settle();
      return left > 0 ? [`${left} sessions opened by offers are still live after they were ended`] : [];
    },
  };
});
