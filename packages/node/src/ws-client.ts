import { deleteSession, SightlineError } from '@sightline/client/signaling';
import { EncodedFrameSender, type CaptureHintMessage, type EncodedFrameSenderStats, type ServerMessage, type SessionSummary } from '@sightline/protocol/wire';
import WebSocket from 'ws';
import { dispatchServerMessage } from './server-messages.js';
import type { NodeResult, StreamClient, StreamError } from './stream-client.js';

export interface WsClientOptions {
  url: string;
  apiKey: string;
  processor?: string | undefined;
  params?: Record<string, unknown> | undefined;
  userId?: string | undefined;
  /** Most frames unacknowledged. Default 2. */
  window?: number;
}

/**
 * A session over the WebSocket bridge (`GET {base}/ws`): JPEG frames as binary chunk messages with the ack window,
 * results as text. For networks where UDP and TURN are blocked.
 */
export class WsClient implements StreamClient {
  onResult: ((r: NodeResult) => void) | undefined;
  onError: ((e: StreamError) => void) | undefined;
  onCaptureHint: ((h: CaptureHintMessage) => void) | undefined;
  captureHint: CaptureHintMessage | undefined;
  readonly input = 'jpeg' as const;
  sessionId = '';
  readonly #ws: WebSocket;
  readonly #sender: EncodedFrameSender;
  #closing: Promise<SessionSummary | undefined> | undefined;

  private constructor(
    ws: WebSocket,
    window: number,
    readonly opts: WsClientOptions,
  ) {
    this.#ws = ws;
    this.#sender = new EncodedFrameSender({ window, sendChunk: (c) => ws.send(c), bufferedAmount: () => ws.bufferedAmount });
  }

  /** Opens the socket (api-key header) and waits for `ready`; rejects with the server's error otherwise. */
  static async connect(opts: WsClientOptions, timeoutMs = 20_000): Promise<WsClient> {
    const u = new URL(`${opts.url.replace(/\/+$/, '')}/ws`);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    if (opts.processor) u.searchParams.set('processor', opts.processor);
    if (opts.userId) u.searchParams.set('user_id', opts.userId);
    if (opts.params) u.searchParams.set('params', JSON.stringify(opts.params));
    const ws = new WebSocket(u, { headers: { 'api-key': opts.apiKey }, handshakeTimeout: timeoutMs });
    const client = new WsClient(ws, opts.window ?? 2, opts);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new SightlineError('timeout', `no ready message within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: SightlineError): void => {
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          let e: { code?: string; message?: string } | undefined;
          try {
            e = (JSON.parse(body) as { error?: { code: string; message: string } }).error;
          } catch {
            e = undefined;
          }
          fail(new SightlineError(e?.code ?? 'http_error', `websocket refused (${res.statusCode}): ${e?.message ?? body.slice(0, 300)}`, res.statusCode));
        });
      });
      ws.on('error', (err) => fail(new SightlineError('unreachable', `server unreachable: ${err.message}`, 0)));
      // A refusal after the upgrade closes with 4000 + the HTTP status, after an error message.
      ws.on('close', (code, reason) =>
        fail(new SightlineError('closed', `websocket closed (${code} ${reason.toString()})`, code >= 4000 ? code - 4000 : undefined)),
      );
      ws.once('message', (data) => {
        const msg = JSON.parse(String(data)) as ServerMessage;
        if (msg.type === 'ready') {
          clearTimeout(timer);
          ws.removeAllListeners('close');
          ws.removeAllListeners('error');
          ws.on('error', () => undefined);
          client.sessionId = msg.session_id;
          resolve();
        } else if (msg.type === 'error') fail(new SightlineError(msg.code, msg.message));
        else fail(new SightlineError('unexpected_message', `unexpected first message ${msg.type}`));
      });
    });
    ws.on('message', (data, isBinary) => {
      if (!isBinary) client.#onMessage(String(data));
    });
    return client;
  }

  get senderStats(): EncodedFrameSenderStats {
    return this.#sender.stats;
  }

  send(): void {
    throw new Error('the WebSocket transport sends encoded (JPEG) frames: use sendEncoded');
  }

  sendEncoded(image: Uint8Array): void {
    if (this.#closing || this.#ws.readyState !== WebSocket.OPEN) return;
    this.#sender.offer(image);
  }

  /** `DELETE` the session (its final counters, at most 3 s), then close the socket. Idempotent. */
  close(): Promise<SessionSummary | undefined> {
    this.#closing ??= (async () => {
      const summary = this.sessionId ? await deleteSession(this.opts.url.replace(/\/+$/, ''), this.opts.apiKey, this.sessionId) : undefined;
      this.#ws.close(1000);
      return summary;
    })();
    return this.#closing;
  }

  #onMessage(text: string): void {
    dispatchServerMessage(text, {
      result: (msg) => {
        const t = this.#sender.sentAt(msg.frame_id);
        this.onResult?.({ message: msg, rttMs: t === undefined ? undefined : performance.now() - t });
      },
      frameAck: (msg) => this.#sender.onAck(msg),
      error: (msg) => this.onError?.(msg),
      captureHint: (msg) => {
        this.captureHint = msg;
        this.onCaptureHint?.(msg);
      },
    });
  }
}
