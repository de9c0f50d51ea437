/**
 * Target `trickle-patch` (HTTP, in-process server): trickle-ICE fragments (RFC 8840 sdpfrags) PATCHed into live
 * connections, so the candidates reach libdatachannel's own candidate parser: `PATCH /webrtc/sessions/:id` (answered
 * with the server's candidates), `PATCH /whip/:id` (with `If-Match`; new credentials are an ICE restart: 501) and
 * `PATCH /sessions/:id/whep/:viewer`.
 *
 * Inputs: valid fragments (host, srflx, IPv6, mDNS candidates; mids; credentials; end-of-candidates) mutated by line
 * and by character, fragment lines assembled at random (odd components, protocols, priorities, addresses, ports,
 * types), free text; mostly the right content type.
 *
 * Invariant (FuzzServer.check): no 5xx but the documented 501, every error `{error: {code, message}}`; a 200 from
 * the WebRTC route is a fragment (`a=` lines only).
 */
import fc from 'fast-check';
import { expect, fuzzTarget } from './fuzz-target.js';
import { KEY } from './fuzz-server.js';
import { contentType, headers } from './http-common.js';
import { fragInput } from './sdpfrag.fuzz.js';
import { SDPFRAG_SAMPLES } from './samples.js';

export const fuzzTricklePatch = fuzzTarget('trickle-patch', { server: true }, async ({ tally, server }) => {
  const request = fc.record({
    route: fc.constantFrom('webrtc', 'webrtc', 'whip', 'whep'),
    body: fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...SDPFRAG_SAMPLES) }, { weight: 6, arbitrary: fragInput() }),
    type: contentType('application/trickle-ice-sdpfrag'),
    ifMatch: fc.constantFrom(undefined, '*', 'live', '"other"'),
  });
  return {
    property: fc.asyncProperty(request, async (r) => {
      const h = (extra: Record<string, string | undefined> = {}): Record<string, string> => headers({ 'api-key': KEY, 'content-type': r.type, ...extra });
      if (r.route === 'webrtc') {
        const url = `/webrtc/sessions/${await server.liveSession()}`;
        const res = await server.request(tally, { method: 'PATCH', url, headers: h(), payload: r.body });
        if (res.statusCode === 200) expect(/^(a=[^\r\n]*\r\n)*$/.test(res.body), 'a trickle answer is not a fragment', res.body);
      } else if (r.route === 'whip') {
        const whip = await server.liveWhip();
        const ifMatch = r.ifMatch === 'live' ? `"${whip.id}"` : r.ifMatch;
        await server.request(tally, { method: 'PATCH', url: `/whip/${whip.id}`, headers: h({ 'if-match': ifMatch }), payload: r.body });
      } else {
        const url = await server.liveViewer();
        await server.request(tally, { method: 'PATCH', url, headers: h(), payload: r.body });
      }
    }),
  };
});
