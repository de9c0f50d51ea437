import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { SessionManager } from '../session/session-manager.js';
import { authenticate } from './auth.js';
import { ownSession } from './own-session.js';
import type { KeyStore } from '../auth/key-store.js';
import type { ErrorSink } from '../observability/http-error-metrics.js';
import { API_KEY, AUTH_ERRORS, errors, noBody, SessionParams, text } from './openapi/route-docs.js';

export interface SessionEventsRoutesOptions {
  keys: KeyStore;
  sessions: SessionManager;
  /** Where WebSocket refusals are counted by code (`sightline_errors_total`), as HTTP error bodies are. */
  errors?: ErrorSink | undefined;
}

/**
 * A session's messages (the same JSON as on its DataChannel) for clients without one, e.g. WHIP publishers:
 * `GET {base}/sessions/:id/events` as Server-Sent Events (`event: result|error|end`) and `GET {base}/sessions/:id/ws`
 * as a WebSocket. Both need the key of the session; both end when the session ends, and at server shutdown.
 */
export const sessionEventsRoutes: FastifyPluginAsyncZod<SessionEventsRoutesOptions> = async (app, opts) => {
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });
  app.addHook('onRequest', async (req) => {
    req.keyId = authenticate(req, opts.keys);
  });
  const own = (id: string, keyId: string | undefined) => ownSession(opts.sessions, id, keyId);

  const tags = ['Session messages'];
  const sse = {
    tags,
    summary: "The session's messages as Server-Sent Events",
    description: '`event: result|error|…` with the DataChannel message (ServerMessage) as `data`; `event: end` with `{reason}` when the session ends.',
    security: API_KEY,
    params: SessionParams,
    response: { 200: text('an event stream', 'text/event-stream'), ...errors(...AUTH_ERRORS, 404) },
  };
  app.get('/sessions/:id/events', { schema: sse }, async (req, reply) => {
    const session = own(req.params.id, req.keyId);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(`: session ${session.id}\n\n`);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    let unwatch = (): void => undefined;
    const end = (reason?: string): void => {
      clearInterval(keepAlive);
      unwatch();
      open.delete(end);
      if (!res.writableEnded) {
        if (reason) res.write(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
        res.end();
      }
    };
    open.add(end);
    unwatch = session.watch({
      onMessage: (msg) => {
        // A reader that does not keep up loses messages rather than growing a buffer (results of past frames): a result
        // no reader took counts as undelivered.
        if (res.writableLength >= 1 << 20) return false;
        res.write(`event: ${msg.type}\ndata: ${JSON.stringify(msg)}\n\n`);
        return true;
      },
      onEnd: (reason) => end(reason),
    });
    req.raw.on('close', () => end());
  });

  const ws = {
    tags,
    summary: "The session's messages over a WebSocket",
    description:
      'Each text message is a ServerMessage. An unknown session gets an error message, then close code 4404. A request without a WebSocket upgrade is 426.',
    security: API_KEY,
    params: SessionParams,
    response: { 101: noBody('WebSocket upgrade; then ServerMessage JSON text messages'), ...errors(...AUTH_ERRORS, 426) },
  };
  app.get('/sessions/:id/ws', { websocket: true, schema: ws }, (socket, req) => {
    const session = opts.sessions.get(req.params.id);
    if (!session || session.keyId !== req.keyId) {
      opts.errors?.onError('not_found');
      socket.send(JSON.stringify({ type: 'error', code: 'not_found', message: `session "${req.params.id.slice(0, 64)}" not found` }));
      socket.close(4404, 'session not found');
      return;
    }
    let unwatch = (): void => undefined;
    const end = (reason?: string): void => {
      unwatch();
      open.delete(end);
      socket.close(1000, reason ?? 'closed');
    };
    open.add(end);
    unwatch = session.watch({
      onMessage: (msg) => {
        if (socket.bufferedAmount >= 1 << 20) return false;
        socket.send(JSON.stringify(msg));
        return true;
      },
      onEnd: (reason) => end(reason),
    });
    socket.on('close', () => {
      unwatch();
      open.delete(end);
    });
  });
};
