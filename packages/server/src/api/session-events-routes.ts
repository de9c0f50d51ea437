import type { FastifyPluginAsync } from 'fastify';
import type { SessionManager } from '../session/session-manager.js';
import { authenticate } from './auth.js';
import { ownSession } from './own-session.js';
import type { KeyStore } from '../auth/key-store.js';

export interface SessionEventsRoutesOptions {
  keys: KeyStore;
  sessions: SessionManager;
}

/**
 * A session's messages (the same JSON as on its DataChannel) for clients without one, e.g. WHIP publishers:
 * `GET {base}/sessions/:id/events` as Server-Sent Events (`event: result|error|end`) and `GET {base}/sessions/:id/ws`
 * as a WebSocket. Both need the key of the session; both end when the session ends, and at server shutdown.
 */
export const sessionEventsRoutes: FastifyPluginAsync<SessionEventsRoutesOptions> = async (app, opts) => {
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });
  app.addHook('onRequest', async (req) => {
    req.keyId = authenticate(req, opts.keys);
  });
  const own = (id: string, keyId: string | undefined) => ownSession(opts.sessions, id, keyId);

  app.get<{ Params: { id: string } }>('/sessions/:id/events', async (req, reply) => {
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
        // A reader that does not keep up loses messages rather than growing a buffer; they are results of past frames.
        if (res.writableLength < 1 << 20) res.write(`event: ${msg.type}\ndata: ${JSON.stringify(msg)}\n\n`);
      },
      onEnd: (reason) => end(reason),
    });
    req.raw.on('close', () => end());
  });

  app.get<{ Params: { id: string } }>('/sessions/:id/ws', { websocket: true }, (socket, req) => {
    const session = opts.sessions.get(req.params.id);
    if (!session || session.keyId !== req.keyId) {
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
        if (socket.bufferedAmount < 1 << 20) socket.send(JSON.stringify(msg));
      },
      onEnd: (reason) => end(reason),
    });
    socket.on('close', () => {
      unwatch();
      open.delete(end);
    });
  });
};
