import type { FastifyPluginAsync } from 'fastify';
import { checkOfferSdp } from '../engine/sdp-check.js';
import { iceUfragOf, parseSdpFrag } from '../engine/sdpfrag.js';
import type { SessionManager } from '../session/session-manager.js';
import { authenticate } from './auth.js';
import { Errors, SightlineError } from './errors.js';
import { iceServerLinks } from './ice-links.js';
import { ownSession } from './own-session.js';
import { exchangeCandidates } from './trickle.js';
import type { IceRoutesOptions } from './ice-routes.js';
import type { KeyStore } from '../auth/key-store.js';

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
export const whipRoutes: FastifyPluginAsync<WhipRoutesOptions> = async (app, opts) => {
  const { sessions } = opts;
  const remoteUfrag = new Map<string, string | undefined>();
  app.addHook('onRequest', async (req) => {
    if (req.method !== 'OPTIONS') req.keyId = authenticate(req, opts.keys);
  });
  const sdpBody = (body: unknown, type: string | undefined, want: string): string => {
    if (!type?.toLowerCase().startsWith(want)) throw Errors.unsupportedMediaType(type);
    return String(body ?? '');
  };

  app.options('/whip', async (req, reply) => {
    const links = iceServerLinks(opts.ice, 'whip');
    void reply.code(204).header('accept-post', 'application/sdp');
    if (links.length > 0) void reply.header('link', links.join(', '));
    return reply.send();
  });

  app.post<{ Querystring: { processor?: string; params?: string } }>('/whip', async (req, reply) => {
    const sdp = sdpBody(req.body, req.headers['content-type'], 'application/sdp');
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
  });

  const own = (id: string, keyId: string | undefined) => ownSession(sessions, id, keyId, 'WHIP session');

  // Trickle ICE (RFC 8840): candidates from the publisher. An ICE restart by PATCH is not supported (501).
  app.patch<{ Params: { id: string } }>('/whip/:id', async (req, reply) => {
    const session = own(req.params.id, req.keyId);
    const match = req.headers['if-match'];
    if (match !== undefined && match !== '*' && match !== `"${session.id}"`) throw Errors.preconditionFailed('If-Match does not match this session');
    let frag;
    try {
      frag = parseSdpFrag(sdpBody(req.body, req.headers['content-type'], 'application/trickle-ice-sdpfrag'));
    } catch (err) {
      if (err instanceof SightlineError) throw err;
      throw Errors.invalidSdp((err as Error).message);
    }
    if (frag.ufrag !== undefined && frag.ufrag !== remoteUfrag.get(session.id)) {
      throw Errors.notImplemented('ICE restart by PATCH is not supported: POST {base}/webrtc/offer with session_id, or publish anew');
    }
    // The answer carried every server candidate (WHIP answers after gathering): only the client's go in here.
    await exchangeCandidates(session, String(req.body));
    return reply.code(204).send();
  });

  app.delete<{ Params: { id: string } }>('/whip/:id', async (req) => {
    own(req.params.id, req.keyId);
    return sessions.end(req.params.id, 'deleted');
  });
};
