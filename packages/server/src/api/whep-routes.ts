import { WhepViewersResponse } from '@sightline/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { checkOfferSdp } from '../engine/sdp-check.js';
import type { SessionManager } from '../session/session-manager.js';
import { authenticate } from './auth.js';
import { Errors } from './errors.js';
import { ownSession } from './own-session.js';
import { parseTrickle } from './trickle.js';
import type { KeyStore } from '../auth/key-store.js';
import { requireContentType } from './content-type.js';
import { API_KEY, AUTH_ERRORS, errors, json, noBody, SessionParams, text, ViewerParams } from './openapi/route-docs.js';

export interface WhepRoutesOptions {
  keys: KeyStore;
  sessions: SessionManager;
}

/**
 * WHEP egress: a second screen watches what the model sees — a session's video with its boxes drawn in.
 * `POST {base}/sessions/:id/whep` with a recvonly SDP offer → 201 + Location; `DELETE` that location to stop.
 */
export const whepRoutes: FastifyPluginAsyncZod<WhepRoutesOptions> = async (app, opts) => {
  app.addHook('onRequest', async (req) => {
    req.keyId = authenticate(req, opts.keys);
  });
  const own = (id: string, keyId: string | undefined) => ownSession(opts.sessions, id, keyId);

  const tags = ['WHIP/WHEP'];

  app.post(
    '/sessions/:id/whep',
    {
      schema: {
        tags,
        summary: "WHEP egress: watch a session's video with its results drawn in",
        security: API_KEY,
        params: SessionParams,
        consumes: ['application/sdp'],
        body: z.string().describe('a recvonly SDP offer'),
        response: {
          201: text('the SDP answer', 'application/sdp', { location: '{base}/sessions/{id}/whep/{viewer}', etag: "the viewer's entity tag" }),
          ...errors(400, ...AUTH_ERRORS, 404, 409, 413, 415, 503),
        },
      },
      preValidation: requireContentType('application/sdp'),
    },
    async (req, reply) => {
      const session = own(req.params.id, req.keyId);
      const sdp = req.body;
      const problem = checkOfferSdp(sdp);
      if (problem) throw Errors.invalidSdp(problem);

      const { viewerId, answerSdp } = await opts.sessions.addViewer(session, sdp);
      return reply
        .code(201)
        .type('application/sdp')
        .header('location', `${req.url.split('?')[0]}/${viewerId}`)
        .header('etag', `"${viewerId}"`)
        .send(answerSdp);
    },
  );

  // Trickled viewer candidates (RFC 8840); the answer already holds every server candidate.
  app.patch(
    '/sessions/:id/whep/:viewer',
    {
      schema: {
        tags,
        summary: "Trickle a WHEP viewer's ICE candidates",
        security: API_KEY,
        params: ViewerParams,
        consumes: ['application/trickle-ice-sdpfrag'],
        body: z.string(),
        response: { 204: noBody('candidates applied'), ...errors(400, ...AUTH_ERRORS, 404, 413, 415) },
      },
      preValidation: requireContentType('application/trickle-ice-sdpfrag'),
    },
    async (req, reply) => {
      const session = own(req.params.id, req.keyId);
      const frag = parseTrickle(req.body);
      for (const c of frag.candidates) {
        const known = await session.addViewerCandidate(req.params.viewer, c.candidate, c.mid).catch((err: Error) => {
          throw Errors.invalidSdp(`candidate refused: ${err.message}`);
        });
        if (!known) throw Errors.notFound(`viewer "${req.params.viewer.slice(0, 64)}"`);
      }
      return reply.code(204).send();
    },
  );

  app.delete(
    '/sessions/:id/whep/:viewer',
    {
      schema: {
        tags,
        summary: 'Stop a WHEP viewer',
        security: API_KEY,
        params: ViewerParams,
        response: { 200: json('viewers left', WhepViewersResponse), ...errors(...AUTH_ERRORS, 404) },
      },
    },
    async (req) => {
      const session = own(req.params.id, req.keyId);
      if (!session.removeViewer(req.params.viewer)) throw Errors.notFound(`viewer "${req.params.viewer.slice(0, 64)}"`);
      return { session_id: session.id, viewers: session.viewers };
    },
  );
};
