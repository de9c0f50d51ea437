import { describeZodError, HelloMessage, ProcessorName, type ErrorCode, type ReadyMessage } from '@sightline/protocol';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { WebSocket } from 'ws';
import type { SessionManager } from '../session/session-manager.js';
import { authenticate } from './auth.js';
import { SightlineError } from './errors.js';
import { WebSocketPeer } from '../session/websocket-peer.js';
import type { KeyStore } from '../auth/key-store.js';
import type { ErrorSink } from '../observability/http-error-metrics.js';
import { API_KEY, errors, noBody, ProcessorQuery } from './openapi/route-docs.js';
import { storedText } from '@sightline/protocol';

export interface WsBridgeRoutesOptions {
  keys: KeyStore;
  sessions: SessionManager;
  defaultProcessor: string;
  isReady: () => boolean;
  /** How long an unauthenticated socket may take to send `hello`. */
  helloTimeoutMs?: number;
  /** Where refusals are counted by code (`sightline_errors_total`), as HTTP error bodies are. */
  errors?: ErrorSink | undefined;
}

/** WebSocket close codes of the bridge: 4000 + the HTTP status the same failure gets on POST /webrtc/offer. */
const closeCodeOf = (status: number): number => 4000 + status;

/**
 * `GET {base}/ws`: a whole session over one WebSocket, for networks where UDP and TURN are blocked. The client sends
 * JPEG/WebP frames as binary chunk messages (the DataChannel format) and `ping`/`set` as text; it receives the same
 * result, error, ack and frame_ack messages as on a DataChannel. Auth: the `api-key`/`Authorization` header (the
 * session starts at once, processor/user from the query string) or a first `hello` message carrying `api_key`.
 */
export const wsBridgeRoutes: FastifyPluginAsyncZod<WsBridgeRoutesOptions> = async (app, opts) => {
  const helloTimeoutMs = opts.helloTimeoutMs ?? 5000;

  const schema = {
    tags: ['Session messages'],
    summary: 'WebSocket bridge: a whole session over one WebSocket (no UDP needed)',
    description:
      'JPEG/WebP frames in as binary chunk messages, ClientMessage text messages in, ServerMessage out. Auth by header (session starts from the query) or a first HelloMessage within 5 s; answered by ReadyMessage. Refusals after the upgrade send an ErrorMessage and close with 4000 + the HTTP status; a malformed query (a repeated parameter, user_id over 256 characters, …) is refused before it (400), a request without an upgrade with 426.',
    security: API_KEY,
    querystring: ProcessorQuery.extend({
      user_id: storedText(256).optional().describe("the caller's user id"),
      record: z.string().max(8).optional().describe('`1` records the session'),
    }),
    response: { 101: noBody('WebSocket upgrade'), ...errors(400, 426) },
  };
  app.get('/ws', { websocket: true, schema }, (socket, req) => {
    // Every refusal, before or while the session starts (auth, hello, query, capacity, …): counted, sent, closed.
    const fail = (code: ErrorCode, message: string, status: number): void => {
      opts.errors?.onError(code);
      socket.send(JSON.stringify({ type: 'error', code, message }));
      socket.close(closeCodeOf(status), code);
    };
    const failWith = (err: unknown): void => {
      if (err instanceof SightlineError) return fail(err.code, err.message, err.status);
      req.log.error({ err }, 'websocket session failed to start');
      fail('internal', 'internal server error', 500);
    };

    const start = async (keyId: string, hello: HelloMessage | undefined): Promise<void> => {
      if (!opts.isReady()) return fail('not_ready', 'server is starting or draining; try again shortly', 503);
      const q = req.query;
      let params: unknown = hello?.params;
      if (params === undefined && q.params !== undefined) {
        try {
          params = JSON.parse(q.params);
        } catch {
          return fail('invalid_params', 'the "params" query parameter must be a JSON object', 400);
        }
      }
      const processor = hello?.processor ?? q.processor ?? opts.defaultProcessor;
      const name = ProcessorName.safeParse(processor);
      if (!name.success) return fail('unknown_processor', `processor ${JSON.stringify(processor.slice(0, 64))} is not a valid name`, 400);
      try {
        const session = await opts.sessions.createBridged(
          { keyId, userId: hello?.user_id ?? q.user_id ?? null, processor: name.data, params: params ?? {}, record: hello?.record ?? q.record === '1' },
          new WebSocketPeer(socket),
        );
        const ready: ReadyMessage = {
          type: 'ready',
          session_id: session.id,
          processor: session.processorName,
          params: session.params as Record<string, unknown>,
        };
        socket.send(JSON.stringify(ready));
        req.log.info({ session_id: session.id, processor: session.processorName, user_id: session.userId, transport: 'ws' }, 'session started');
      } catch (err) {
        failWith(err);
      }
    };

    const headerKeyId = keyFromHeaders(req, opts.keys);
    if (headerKeyId instanceof SightlineError && headerKeyId.code !== 'missing_api_key') return fail(headerKeyId.code, headerKeyId.message, headerKeyId.status);
    if (typeof headerKeyId === 'string') {
      void start(headerKeyId, undefined);
      return;
    }
    awaitHello(socket, helloTimeoutMs, fail, (hello) => {
      if (!hello.api_key) return fail('missing_api_key', 'the first message must be {"type":"hello","api_key":"…"} (or send the api-key header)', 401);
      const keyId = opts.keys.check(hello.api_key);
      if (!keyId) return fail('invalid_api_key', 'the API key is not valid', 403);
      void start(keyId, hello);
    });
  });
};

/** The key id from the upgrade request's headers, the SightlineError they earn, or `missing_api_key` when there are none. */
function keyFromHeaders(req: FastifyRequest, keys: KeyStore): string | SightlineError {
  try {
    return authenticate(req, keys);
  } catch (err) {
    if (err instanceof SightlineError) return err;
    throw err;
  }
}

/** Waits for the first message, which must be a valid `hello`. */
function awaitHello(
  socket: WebSocket,
  timeoutMs: number,
  fail: (code: ErrorCode, message: string, status: number) => void,
  onHello: (hello: HelloMessage) => void,
): void {
  const timer = setTimeout(() => fail('auth_timeout', `no hello message within ${timeoutMs} ms`, 408), timeoutMs);
  socket.once('message', (data, isBinary) => {
    clearTimeout(timer);
    if (isBinary) return fail('missing_api_key', 'the first message must be a text hello message with api_key, not a frame', 401);
    let json: unknown;
    try {
      json = JSON.parse(String(data));
    } catch {
      return fail('invalid_message', 'the first message is not JSON; expected {"type":"hello","api_key":"…"}', 400);
    }
    const parsed = HelloMessage.safeParse(json);
    if (!parsed.success) {
      return fail('invalid_message', `expected a hello message: ${describeZodError(parsed.error)}`, 400);
    }
    onHello(parsed.data);
  });
  socket.once('close', () => clearTimeout(timer));
}
