import type { FastifyPluginAsync } from 'fastify';
import { checkOfferSdp } from '../engine/sdp-check.js';
import { parseSdpFrag } from '../engine/sdpfrag.js';
import type { SessionManager } from '../session/session-manager.js';
import { authenticate } from './auth.js';
import { Errors } from './errors.js';
import { ownSession } from './own-session.js';
import type { KeyStore } from '../auth/key-store.js';

export interface WhepRoutesOptions {
  keys: KeyStore;
  sessions: SessionManager;
}

/**
 * WHEP egress: a second screen watches what the model sees — a session's video with its boxes drawn in.
 * `POST {base}/sessions/:id/whep` with a recvonly SDP offer → 201 + Location; `DELETE` that location to stop.
 */
export const whepRoutes: FastifyPluginAsync<WhepRoutesOptions> = async (app, opts) => {
  app.addHook('onRequest', async (req) => {
    req.keyId = authenticate(req, opts.keys);
  });
  const own = (id: string, keyId: string | undefined) => ownSession(opts.sessions, id, keyId);

  app.post<{ Params: { id: string } }>('/sessions/:id/whep', async (req, reply) => {
    const type = req.headers['content-type'];
    if (!type?.toLowerCase().startsWith('application/sdp')) throw Errors.unsupportedMediaType(type);
    const session = own(req.params.id, req.keyId);
    const sdp = String(req.body ?? '');
    const problem = checkOfferSdp(sdp);
    if (problem) throw Errors.invalidSdp(problem);

    const { viewerId, answerSdp } = await opts.sessions.addViewer(session, sdp);
    return reply
      .code(201)
      .type('application/sdp')
      .header('location', `${req.url.split('?')[0]}/${viewerId}`)
      .header('etag', `"${viewerId}"`)
      .send(answerSdp);
  });

  // Trickled viewer candidates (RFC 8840); the answer already holds every server candidate.
  app.patch<{ Params: { id: string; viewer: string } }>('/sessions/:id/whep/:viewer', async (req, reply) => {
    const type = req.headers['content-type'];
    if (!type?.toLowerCase().startsWith('application/trickle-ice-sdpfrag')) throw Errors.unsupportedMediaType(type);
    const session = own(req.params.id, req.keyId);
    let frag;
    try {
      frag = parseSdpFrag(String(req.body ?? ''));
    } catch (err) {
      throw Errors.invalidSdp((err as Error).message);
    }
    for (const c of frag.candidates) {
      const known = await session.addViewerCandidate(req.params.viewer, c.candidate, c.mid).catch((err: Error) => {
        throw Errors.invalidSdp(`candidate refused: ${err.message}`);
      });
      if (!known) throw Errors.notFound(`viewer "${req.params.viewer.slice(0, 64)}"`);
    }
    return reply.code(204).send();
  });

  app.delete<{ Params: { id: string; viewer: string } }>('/sessions/:id/whep/:viewer', async (req) => {
    const session = own(req.params.id, req.keyId);
    if (!session.removeViewer(req.params.viewer)) throw Errors.notFound(`viewer "${req.params.viewer.slice(0, 64)}"`);
    return { session_id: session.id, viewers: session.viewers };
  });
};
