import { SessionSummary } from '@sightline/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { checkOfferSdp } from '../engine/sdp-check.js';
import { iceUfragOf } from '../engine/sdpfrag.js';
import type { SessionManager } from '../session/session-manager.js';
import { authenticate } from './auth.js';
import { Errors, SightlineError } from './errors.js';
import { iceServerLinks } from './ice-links.js';
import { ownSession } from './own-session.js';
import { exchangeCandidates, parseTrickle } from './trickle.js';
import type { IceRoutesOptions } from './ice-routes.js';
import type { KeyStore } from '../auth/key-store.js';
import { requireContentType } from './content-type.js';
import { API_KEY, AUTH_ERRORS, errors, json, noBody, ProcessorQuery, PUBLIC, SessionParams, text } from './openapi/route-docs.js';

const SDPFRAG = 'application/trickle-ice-sdpfrag';

export interface WhipRoutesOptions {
  keys: KeyStore;
  sessions: SessionManager;
  defaultProcessor: string;
  isReady: () => boolean;
  ice: Omit<IceRoutesOptions, 'keys'>;
}

/**
 * WHIP ingest (RFC 9725): broadcasters' tools publish by `POST {base}/whip` with an SDP offer and a Bearer key. The
 * session has no DataChannel: its results are served at `{base}/sessions/:id/events` (SSE) and `/ws` (WebSocket).
 * Processor and params come from the query: `?processor=face&params={"min_score":0.7}`.
 */
export const whipRoutes: FastifyPluginAsyncZod<WhipRoutesOptions> = async (app, opts) => {
  const { sessions } = opts;
  const remoteUfrag = new Map<string, string | undefined>();
  app.addHook('onRequest', async (req) => {
    if (req.method !== 'OPTIONS') req.keyId = authenticate(req, opts.keys);
  });
  const tags = ['WHIP/WHEP'];

  app.options(
    '/whip',
    {
      schema: {
        tags,
        summary: 'WHIP discovery: Accept-Post and the ICE servers as Link headers',
        security: PUBLIC,
        response: { 204: noBody('no body', { 'accept-post': 'application/sdp', link: 'ICE servers (RFC 9725)' }) },
      },
    },
    async (req, reply) => {
      // OPTIONS needs no key (a CORS preflight has none), so TURN credentials go only to a request that shows a valid
      // one: anyone else would get the relay for free. STUN servers are public.
      let keyId: string | undefined;
      try {
        keyId = authenticate(req, opts.keys);
      } catch {
        keyId = undefined;
      }
      const links = iceServerLinks(keyId !== undefined ? opts.ice : { ...opts.ice, turnSecret: undefined }, keyId ?? 'whip');
      void reply.code(204).header('accept-post', 'application/sdp');
      if (links.length > 0) void reply.header('link', links.join(', '));
      return reply.send();
    },
  );

  app.post(
    '/whip',
    {
      schema: {
        tags,
        summary: 'WHIP ingest (RFC 9725): publish a stream with an SDP offer',
        description: 'Results of a WHIP session are read from `{base}/sessions/{id}/events` (SSE) or `/ws`.',
        security: API_KEY,
        querystring: ProcessorQuery,
        consumes: ['application/sdp'],
        body: z.string().describe('the SDP offer'),
        response: {
          201: text('the SDP answer', 'application/sdp', {
            location: '{base}/whip/{id}',
            etag: "the session's entity tag",
            link: 'ICE servers',
            'accept-patch': 'application/trickle-ice-sdpfrag',
          }),
          ...errors(400, ...AUTH_ERRORS, 409, 413, 415, 429, 503),
        },
      },
      preValidation: requireContentType('application/sdp'),
    },
    async (req, reply) => {
      const sdp = req.body;
      const problem = checkOfferSdp(sdp);
      if (problem) throw Errors.invalidSdp(problem);
      if (!opts.isReady()) throw Errors.notReady('server is starting or draining; try again shortly');
      let params: unknown;
      try {
        params = req.query.params ? JSON.parse(req.query.params) : undefined;
      } catch {
        throw new SightlineError('invalid_params', 'the params query parameter is not JSON');
      }

      const { session, answerSdp } = await sessions.create({
        keyId: req.keyId!,
        userId: null,
        processor: req.query.processor ?? opts.defaultProcessor,
        params,
        offerSdp: sdp,
        transport: 'whip',
      });
      remoteUfrag.set(session.id, iceUfragOf(sdp));
      // Not a watcher: WHIP has no reader of its own, so its results count as delivered only when an SSE or WebSocket
      // reader takes them.
      session.onEnd(() => remoteUfrag.delete(session.id));
      req.log.info({ session_id: session.id, processor: session.processorName }, 'whip session started');
      const links = iceServerLinks(opts.ice, req.keyId!);
      void reply
        .code(201)
        .type('application/sdp')
        .header('location', `${req.url.split('?')[0]}/${session.id}`)
        .header('etag', `"${session.id}"`)
        .header('accept-patch', 'application/trickle-ice-sdpfrag');
      if (links.length > 0) void reply.header('link', links.join(', '));
      return reply.send(answerSdp);
    },
  );

  const own = (id: string, keyId: string | undefined) => ownSession(sessions, id, keyId, 'WHIP session');

  // Trickle ICE (RFC 8840): candidates from the publisher. An ICE restart by PATCH is not supported (501).
  app.patch(
    '/whip/:id',
    {
      schema: {
        tags,
        summary: "Trickle the publisher's ICE candidates (an ICE restart answers 501)",
        security: API_KEY,
        params: SessionParams,
        consumes: [SDPFRAG],
        body: z.string(),
        response: { 204: noBody('candidates applied'), ...errors(400, ...AUTH_ERRORS, 404, 412, 413, 415, 501) },
      },
      preValidation: requireContentType(SDPFRAG),
    },
    async (req, reply) => {
      const session = own(req.params.id, req.keyId);
      const match = req.headers['if-match'];
      if (match !== undefined && match !== '*' && match !== `"${session.id}"`) throw Errors.preconditionFailed('If-Match does not match this session');
      const frag = parseTrickle(req.body);
      if (frag.ufrag !== undefined && frag.ufrag !== remoteUfrag.get(session.id)) {
        throw Errors.notImplemented('ICE restart by PATCH is not supported: POST {base}/webrtc/offer with session_id, or publish anew');
      }
      // The answer carried every server candidate (WHIP answers after gathering): only the client's go in here.
      await exchangeCandidates(session, frag);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/whip/:id',
    {
      schema: {
        tags,
        summary: 'End a WHIP session',
        security: API_KEY,
        params: SessionParams,
        response: { 200: json("the session's summary", SessionSummary), ...errors(...AUTH_ERRORS, 404) },
      },
    },
    async (req) => {
      own(req.params.id, req.keyId);
      return sessions.end(req.params.id, 'deleted');
    },
  );
};
