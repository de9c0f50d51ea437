import { EncodedFrameSender, type CaptureHintMessage, type EncodedFrameSenderStats, type ServerMessage } from '@sightline/protocol';
import WebSocket from 'ws';
import type { NodeResult, StreamClient } from './stream-client.js';

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
  onError: ((e: { code: string; message: string; frame_id?: number }) => void) | undefined;
  onCaptureHint: ((h: CaptureHintMessage) => void) | undefined;
  captureHint: CaptureHintMessage | undefined;
  readonly input = 'jpeg' as const;
  sessionId = '';
  readonly #ws: WebSocket;
  readonly #sender: EncodedFrameSender;
  #closed = false;

  private constructor(ws: WebSocket, window: number) {
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
    const client = new WsClient(ws, opts.window ?? 2);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no ready message within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => fail(new Error(`websocket refused (${res.statusCode}): ${body.slice(0, 300)}`)));
      });
      ws.on('error', (err) => fail(err));
      ws.on('close', (code, reason) => fail(new Error(`websocket closed (${code} ${reason.toString()})`)));
      ws.once('message', (data) => {
        const msg = JSON.parse(String(data)) as ServerMessage;
        if (msg.type === 'ready') {
          clearTimeout(timer);
          ws.removeAllListeners('close');
          ws.removeAllListeners('error');
          ws.on('error', () => undefined);
          client.sessionId = msg.session_id;
          resolve();
        } else fail(new Error(msg.type === 'error' ? `${msg.code}: ${msg.message}` : `unexpected first message ${msg.type}`));
      });
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: ServerMessage;
      try {
        msg = JSON.parse(String(data)) as ServerMessage;
      } catch {
        return;
      }
      client.#onMessage(msg);
    });
    return client;
  }

  get senderStats(): EncodedFrameSenderStats {
    return this.#sender.stats;
  }

  async warmUp(): Promise<void> {}

  send(): void {
    throw new Error('the WebSocket transport sends encoded (JPEG) frames: use sendEncoded');
  }

  sendEncoded(image: Uint8Array): void {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) return;
    this.#sender.offer(image);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ws.close(1000);
  }

  #onMessage(msg: ServerMessage): void {
    if (msg.type === 'frame_ack') this.#sender.onAck(msg);
    else if (msg.type === 'result') {
      const t = this.#sender.sentAt(msg.frame_id);
      this.onResult?.({ message: msg, rttMs: t === undefined ? undefined : performance.now() - t });
    } else if (msg.type === 'error') this.onError?.(msg);
    else if (msg.type === 'capture_hint') {
      this.captureHint = msg;
      this.onCaptureHint?.(msg);
    }
  }
}
