/**
 * Target `offer-body` (HTTP, in-process server): `POST /webrtc/offer` bodies and headers.
 *
 * Inputs: JSON objects built field by field — `sdp` (valid offers, mostly), `type`, `user_id`, `processor`, `params`,
 * `session_id` (the live session's: an ICE restart or resume; another's; junk), `trickle`, `mode`, `audio`, `record`,
 * `capture` — each valid, odd or of the wrong type; valid bodies mutated as text; any JSON; free text and bytes; with
 * right and wrong credentials and content types.
 *
 * Invariant (FuzzServer.check): no 5xx but the documented refusals, every error `{error: {code, message}}` with the
 * status of its code; a 200 is an SDP answer with a session id (the session is ended after).
 */
import fc from 'fast-check';
import { expect, fuzzTarget } from './fuzz-target.js';
import { authHeaders, contentType, headers } from './http-common.js';
import { mutatedText, weirdJson, weirdNumber, weirdString } from './mutators.js';
import { paramsArb } from './control-messages.fuzz.js';
import { CHROMIUM_OFFER, LIBDATACHANNEL_OFFER } from './samples.js';

/** Stands for the long-lived session's id, filled in when the request is made (the session may be reopened). */
const LIVE = '<live-session>';

export const fuzzOfferBody = fuzzTarget('offer-body', { server: true }, async ({ tally, server }) => {
  const offers = [...server.offers, LIBDATACHANNEL_OFFER, CHROMIUM_OFFER];
  /** Valid values of each field (those absent are left out). */
  const valid = fc.record(
    {
      sdp: fc.constantFrom(...offers),
      type: fc.constant('offer'),
      user_id: fc.oneof(fc.constant(null), fc.string({ maxLength: 20 })),
      processor: fc.constantFrom('null', 'stats', 'face', 'edges', 'blur-faces'),
      params: fc.constantFrom({}, { min_score: 0.7 }, { step: 4 }),
      session_id: fc.constant(LIVE),
      trickle: fc.boolean(),
      mode: fc.constantFrom('results', 'video', 'both'),
      audio: fc.constantFrom({}, { vad: {} }, { 'audio-level': { interval_ms: 200 } }),
      record: fc.constant(false),
      capture: fc.record({ width: fc.integer({ min: 1, max: 4000 }), height: fc.integer({ min: 1, max: 4000 }) }),
    },
    { requiredKeys: ['sdp', 'type'] },
  );
  /** Odd values of each field: wrong types, out of range, unknown names, mutated SDP. */
  const odd: Record<string, fc.Arbitrary<unknown>> = {
    sdp: fc.oneof(mutatedText(offers, undefined, 2), weirdJson()),
    type: weirdJson(),
    user_id: fc.oneof(weirdString(300), weirdJson()),
    processor: fc.oneof(fc.constantFrom('nope', 'Face', '', 'null '), weirdString(70), weirdJson()),
    params: paramsArb(),
    session_id: fc.oneof(fc.uuid(), weirdString(80), weirdJson()),
    trickle: weirdJson(),
    mode: weirdJson(),
    audio: fc.oneof(
      fc.constantFrom({ nope: {} }, { vad: { threshold: 2 } }, { 'Bad Name': {} }, { vad: null }),
      fc.dictionary(weirdString(10), weirdJson(), { maxKeys: 2 }),
      weirdJson(),
    ),
    record: fc.oneof(fc.constant(true), weirdJson()),
    capture: fc.oneof(fc.record({ width: weirdNumber(), height: weirdNumber() }), weirdJson()),
    [LIVE]: weirdJson(),
  };
  /** A valid body with up to three fields made odd (or dropped). */
  const body = fc.tuple(valid, fc.subarray(Object.keys(odd), { maxLength: 3 }), fc.record(odd), fc.boolean()).map(([v, fields, values, drop]) => {
    const b: Record<string, unknown> = { ...v };
    for (const f of fields) {
      if (drop && f !== LIVE) delete b[f];
      else b[f === LIVE ? 'unknown_field' : f] = values[f];
    }
    return b;
  });
  const payload = fc.oneof(
    { weight: 8, arbitrary: body.map((b) => JSON.stringify(b)) },
    { weight: 3, arbitrary: mutatedText(offers.map((sdp) => JSON.stringify({ sdp, type: 'offer', processor: 'null', trickle: true }))) },
    { weight: 1, arbitrary: weirdJson().map((v) => JSON.stringify(v) ?? '') },
    { weight: 1, arbitrary: weirdString(200) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 70_000 }).map((n) => JSON.stringify({ sdp: 'v=0'.padEnd(n, 'x'), type: 'offer' })) },
  );
  const request = fc.record({
    payload,
    auth: authHeaders(),
    type: contentType('application/json'),
    url: fc.oneof(
      { weight: 10, arbitrary: fc.constant('/webrtc/offer') },
      fc.constantFrom('/webrtc/offer?trickle=1', '/webrtc/offer/', '/WEBRTC/offer', '/webrtc//offer'),
    ),
  });

  return {
    property: fc.asyncProperty(request, async (r) => {
      const live = await server.liveSession();
      const payload = typeof r.payload === 'string' ? r.payload.split(LIVE).join(live) : r.payload;
      try {
        const res = await server.request(tally, { method: 'POST', url: r.url, headers: headers({ ...r.auth, 'content-type': r.type }), payload });
        if (res.statusCode === 200) {
          const answer = res.json() as { sdp?: unknown; type?: unknown; session_id?: unknown };
          expect(typeof answer.sdp === 'string' && answer.sdp.startsWith('v=0') && answer.type === 'answer', 'a 200 is not an SDP answer', answer);
          expect(typeof answer.session_id === 'string', 'a 200 has no session id', answer);
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
