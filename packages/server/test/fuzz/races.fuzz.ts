/**
 * Target `races` (HTTP, in-process server): requests on the same resources at the same time, as a client that
 * retries, a second tab, or a proxy that duplicates requests would send them. Each input opens a fresh WebRTC
 * session and a fresh WHIP session, then sends 2–8 requests at once, chosen among: DELETE the session (twice, too),
 * trickle PATCHes, a resume offer (`session_id`), WHEP viewer offers, DELETE of the WHIP resource, WHIP PATCHes, a new
 * offer, the session's history.
 *
 * Invariants: every answer passes FuzzServer.check (no 5xx but documented refusals, error bodies in shape); DELETE of
 * a session answers its summary or 404, never both states at once (the same final counters to every DELETE that got
 * 200); once everything is ended no session is left behind; the server stays healthy.
 */
import fc from 'fast-check';
import { expect, fuzzTarget } from './fuzz-target.js';
import { KEY } from './fuzz-server.js';
import { SDPFRAG_SAMPLES, WHEP_OFFER } from './samples.js';

type Op = 'delete' | 'patch' | 'resume' | 'whep' | 'whip-delete' | 'whip-patch' | 'offer' | 'history';

export const fuzzRaces = fuzzTarget('races', { server: true }, async ({ tally, server }) => {
  const json = { 'content-type': 'application/json', 'api-key': KEY };
  const ops = fc.array(fc.constantFrom<Op>('delete', 'delete', 'patch', 'resume', 'whep', 'whip-delete', 'whip-patch', 'offer', 'history'), {
    minLength: 2,
    maxLength: 8,
  });
  return {
    property: fc.asyncProperty(ops, fc.constantFrom(...SDPFRAG_SAMPLES), fc.boolean(), async (list, frag, trickle) => {
      try {
        const opened = await server.request(tally, {
          method: 'POST',
          url: '/webrtc/offer',
          headers: json,
          payload: JSON.stringify({ sdp: server.offers[1], type: 'offer', trickle, mode: 'both', processor: 'null' }),
        });
        expect(opened.statusCode === 200, 'the session to race on did not open', opened.body);
        const id = (opened.json() as { session_id: string }).session_id;
        const whip = await server.request(tally, {
          method: 'POST',
          url: '/whip?processor=null',
          headers: { 'content-type': 'application/sdp', authorization: `Bearer ${KEY}` },
          payload: server.offers[0]!,
        });
        expect(whip.statusCode === 201, 'the WHIP session to race on did not open', whip.body);
        const whipUrl = String(whip.headers.location);
        const sdpfrag = { 'content-type': 'application/trickle-ice-sdpfrag', 'api-key': KEY };
        const run = (op: Op) => {
          switch (op) {
            case 'delete':
              return server.request(tally, { method: 'DELETE', url: `/webrtc/sessions/${id}`, headers: { 'api-key': KEY } });
            case 'patch':
              return server.request(tally, { method: 'PATCH', url: `/webrtc/sessions/${id}`, headers: sdpfrag, payload: frag });
            case 'resume':
              return server.request(tally, {
                method: 'POST',
                url: '/webrtc/offer',
                headers: json,
                payload: JSON.stringify({ sdp: server.offers[0], type: 'offer', session_id: id }),
              });
            case 'whep':
              return server.request(tally, {
                method: 'POST',
                url: `/sessions/${id}/whep`,
                headers: { 'content-type': 'application/sdp', 'api-key': KEY },
                payload: WHEP_OFFER,
              });
            case 'whip-delete':
              return server.request(tally, { method: 'DELETE', url: whipUrl, headers: { 'api-key': KEY } });
            case 'whip-patch':
              return server.request(tally, { method: 'PATCH', url: whipUrl, headers: sdpfrag, payload: frag.replace(/a=ice-(ufrag|pwd):.*\r\n/g, '') });
            case 'offer':
              return server.request(tally, {
                method: 'POST',
                url: '/webrtc/offer',
                headers: json,
                payload: JSON.stringify({ sdp: server.offers[2], type: 'offer', trickle: true }),
              });
            case 'history':
              return server.request(tally, { method: 'GET', url: `/v1/sessions/${id}`, headers: { 'api-key': KEY } });
          }
        };
        const answers = await Promise.all(list.map(async (op) => ({ op, res: await run(op) })));
        const summaries = answers.filter((a) => a.op === 'delete' && a.res.statusCode === 200).map((a) => a.res.json() as { end_reason: unknown });
        // Every DELETE that ended or found the session ended gives the one final summary.
        expect(new Set(summaries.map((s) => JSON.stringify(s))).size <= 1, 'concurrent DELETEs gave different summaries', summaries);
      } finally {
        server.endOpened();
      }
    }),
    after: async () => {
      const left = await server.settle();
      return left > 0 ? [`${left} sessions are still live after the races ended them`] : [];
    },
  };
});
