import { HealthResponse, OfferRequest, OfferResponse, SessionSummary, type OfferResponse as Answer } from '@sightline/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { checkOfferSdp, offerCanReceiveVideo, offerSendsAudio } from '../engine/sdp-check.js';
import type { SessionManager } from '../session/session-manager.js';
import { authenticate } from './auth.js';
import { ownSession } from './own-session.js';
import { exchangeCandidates } from './trickle.js';
import { Errors } from './errors.js';
import type { KeyStore } from '../auth/key-store.js';
import { API_KEY, AUTH_ERRORS, errors, json, PUBLIC, SessionParams, text } from './openapi/route-docs.js';
import { requireContentType } from './content-type.js';

export interface WebrtcRoutesOptions {
  keys: KeyStore;
  sessions: SessionManager;
  defaultProcessor: string;
  /** The `status` text of the health route. */
  healthStatus: string;
  isReady: () => boolean;
}

const SDPFRAG = 'application/trickle-ice-sdpfrag';

declare module 'fastify' {
  interface FastifyRequest {
    keyId?: string;
  }
}

/** The seed's signaling API: offer/answer, health, and ending a session. Mounted under the base path. */
export const webrtcRoutes: FastifyPluginAsyncZod<WebrtcRoutesOptions> = async (app, opts) => {
  const { keys, sessions } = opts;
  const onRequest = async (req: { headers: Record<string, unknown>; keyId?: string }): Promise<void> => {
    req.keyId = authenticate(req as never, keys);
  };

  const health = { status: opts.healthStatus };
  app.get(
    '/webrtc/health',
    {
      schema: {
        tags: ['WebRTC'],
        summary: "The seed's health check",
        security: PUBLIC,
        response: {
          200: json(
            '`{"status": "<text>"}`: the text set by `--health-status` (default "WebRTC API healthy"; the seed documents "WebRTC Skin API healthy"), as in the example',
            HealthResponse,
            { example: health },
          ),
        },
      },
    },
    async () => health,
  );

  app.post('/webrtc/offer', {
    schema: {
      tags: ['WebRTC'],
      summary: 'Open a session (or ICE-restart one) with an SDP offer',
      description:
        'Answers once ICE gathering completes (non-trickle, bounded wait), or at once with `trickle: true` (then PATCH `session_url`). With `session_id` of a live session of the same key, renegotiates it instead.',
      security: API_KEY,
      body: OfferRequest,
      response: { 200: json('the SDP answer', OfferResponse), ...errors(400, ...AUTH_ERRORS, 404, 409, 413, 415, 429, 503) },
    },
    onRequest,
    // "not an offer" is its own code: checked before the schema, on any JSON object.
    preValidation: async (req) => {
      const body = req.body as { type?: unknown } | null;
      if (typeof body === 'object' && body !== null && !Array.isArray(body) && body.type !== 'offer') throw Errors.notAnOffer();
    },
    handler: async (req, reply) => {
      const offer = req.body;
      const sdpProblem = checkOfferSdp(offer.sdp);
      if (sdpProblem) throw Errors.invalidSdp(sdpProblem);
      if (offer.session_id !== undefined) {
        // ICE restart of a live session: same peer connection, same pipeline. Another key's session is "not found".
        const live = sessions.get(offer.session_id);
        if (!live || live.keyId !== req.keyId || live.closed) throw Errors.sessionNotFound(offer.session_id);

        const sdp = await sessions.reconnect(live, offer.sdp);
        req.log.info({ session_id: live.id, renegotiations: live.renegotiations }, 'session renegotiated');
        const res: Answer = { sdp, type: 'answer', session_id: live.id, processor: live.processorName };
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
      const res: Answer = {
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
  app.patch('/webrtc/sessions/:id', {
    schema: {
      tags: ['WebRTC'],
      summary: 'Trickle ICE (RFC 8840): client candidates in, server candidates out',
      security: API_KEY,
      params: SessionParams,
      consumes: [SDPFRAG],
      body: z.string(),
      response: {
        200: text("the server's new candidates; `a=end-of-candidates` once complete", SDPFRAG),
        ...errors(400, ...AUTH_ERRORS, 404, 413, 415),
      },
    },
    onRequest,
    preValidation: requireContentType(SDPFRAG),
    handler: async (req, reply) => {
      const session = ownSession(sessions, req.params.id, req.keyId);
      const frag = await exchangeCandidates(session, req.body);
      return reply.code(200).type('application/trickle-ice-sdpfrag').send(frag);
    },
  });

  app.delete('/webrtc/sessions/:id', {
    schema: {
      tags: ['WebRTC'],
      summary: 'End a session; returns its final counters',
      security: API_KEY,
      params: SessionParams,
      response: {
        200: json(
          "the session's summary; a session that already ended (for a few minutes after) answers its final summary again, with its own `end_reason`",
          SessionSummary,
        ),
        ...errors(...AUTH_ERRORS, 404),
      },
    },
    onRequest,
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
