import { describeZodError, OfferRequest, type OfferResponse } from '@sightline/protocol';
import type { FastifyPluginAsync } from 'fastify';
import { checkOfferSdp, offerCanReceiveVideo, offerSendsAudio } from '../engine/sdp-check.js';
import type { SessionManager } from '../session/session-manager.js';
import { authenticate } from './auth.js';
import { ownSession } from './own-session.js';
import { exchangeCandidates } from './trickle.js';
import { Errors } from './errors.js';
import type { KeyStore } from '../auth/key-store.js';

export interface WebrtcRoutesOptions {
  keys: KeyStore;
  sessions: SessionManager;
  defaultProcessor: string;
  /** The `status` text of the health route. */
  healthStatus: string;
  isReady: () => boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    keyId?: string;
  }
}

/** The seed's signaling API: offer/answer, health, and ending a session. Mounted under the base path. */
export const webrtcRoutes: FastifyPluginAsync<WebrtcRoutesOptions> = async (app, opts) => {
  const { keys, sessions } = opts;

  const health = { status: opts.healthStatus };
  app.get('/webrtc/health', async () => health);

  app.post('/webrtc/offer', {
    onRequest: async (req) => {
      req.keyId = authenticate(req, keys);
    },
    handler: async (req, reply) => {
      const body = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw Errors.invalidBody('body must be a JSON object');
      if ((body as { type?: unknown }).type !== 'offer') throw Errors.notAnOffer();
      const parsed = OfferRequest.safeParse(body);
      if (!parsed.success) {
        throw Errors.invalidBody(describeZodError(parsed.error));
      }
      const offer = parsed.data;
      const sdpProblem = checkOfferSdp(offer.sdp);
      if (sdpProblem) throw Errors.invalidSdp(sdpProblem);
      if (offer.session_id !== undefined) {
        // ICE restart of a live session: same peer connection, same pipeline. Another key's session is "not found".
        const live = sessions.get(offer.session_id);
        if (!live || live.keyId !== req.keyId || live.closed) throw Errors.sessionNotFound(offer.session_id);

        const sdp = await live.renegotiate(offer.sdp);
        req.log.info({ session_id: live.id, renegotiations: live.renegotiations }, 'session renegotiated');
        const res: OfferResponse = { sdp, type: 'answer', session_id: live.id, processor: live.processorName };
        return reply.send(res);
      }
      if (!opts.isReady()) throw Errors.notReady('server is starting or draining; try again shortly');
      const processor = offer.processor ?? opts.defaultProcessor;
      const videoBack = offer.mode === 'video' || offer.mode === 'both';
      if (videoBack && !offerCanReceiveVideo(offer.sdp)) {
        throw Errors.invalidSdp(`mode "${offer.mode}" needs a video section that can receive (sendrecv): the server sends the processed video back on it`);
      }
      if (offer.audio && Object.keys(offer.audio).length > 0 && !offerSendsAudio(offer.sdp)) {
        throw Errors.invalidSdp(`audio processors (${Object.keys(offer.audio).join(', ')}) need an audio section that sends (sendrecv or sendonly)`);
      }

      const { session, answerSdp } = await sessions.create({
        keyId: req.keyId!,
        userId: offer.user_id ?? null,
        processor,
        params: offer.params,
        offerSdp: offer.sdp,
        trickle: offer.trickle ?? false,
        videoBack,
        audio: offer.audio,
        record: offer.record,
        sendsAudio: offerSendsAudio(offer.sdp),
      });
      req.log.info({ session_id: session.id, processor, user_id: session.userId, trickle: offer.trickle ?? false }, 'session started');
      const hint = offer.capture ? session.primeCaptureHint(offer.capture.width, offer.capture.height) : undefined;
      const res: OfferResponse = {
        sdp: answerSdp,
        type: 'answer',
        session_id: session.id,
        processor,
        ...(offer.trickle ? { session_url: `${req.url.replace(/\/offer(\?.*)?$/, '')}/sessions/${session.id}` } : {}),
        ...(hint ? { capture_hint: hint } : {}),
      };
      return reply.send(res);
    },
  });

  // Trickle ICE (RFC 8840): the client's candidates in, the server's new candidates out.
  app.patch<{ Params: { id: string } }>('/webrtc/sessions/:id', {
    onRequest: async (req) => {
      req.keyId = authenticate(req, keys);
    },
    handler: async (req, reply) => {
      const type = req.headers['content-type'];
      if (!type?.toLowerCase().startsWith('application/trickle-ice-sdpfrag')) throw Errors.unsupportedMediaType(type);
      const session = ownSession(sessions, req.params.id, req.keyId);
      const frag = await exchangeCandidates(session, String(req.body ?? ''));
      return reply.code(200).type('application/trickle-ice-sdpfrag').send(frag);
    },
  });

  app.delete<{ Params: { id: string } }>('/webrtc/sessions/:id', {
    onRequest: async (req) => {
      req.keyId = authenticate(req, keys);
    },
    handler: async (req) => {
      // A session that already ended (its client closed the connection first, a timeout…) still answers its
      // owner with its final counters for a while, so a client's DELETE never races the server into a 404.
      const ended = sessions.endedSummary(req.params.id, req.keyId);
      if (ended) return ended;
      const session = ownSession(sessions, req.params.id, req.keyId);
      return sessions.end(session.id, 'deleted');
    },
  });
};
