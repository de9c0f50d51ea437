import type { WebSocket } from 'ws';
import type { EngineChannel, PeerState, SessionPeer } from '../engine/media-engine.js';
import type { I420Frame } from '../models/i420.js';

/** How often the server pings a bridged client; one that has not answered by the next ping is cut off. */
const KEEPALIVE_MS = 15_000;

/** The WebSocket as the session's only channel: text messages both ways, binary (frame chunks) inbound. */
class WebSocketChannel implements EngineChannel {
  readonly label = 'ws';
  onMessage: ((data: string | ArrayBuffer) => void) | undefined;
  onOpen: (() => void) | undefined;
  onClose: (() => void) | undefined;

  constructor(private readonly socket: WebSocket) {}

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  send(text: string): boolean {
    if (!this.open) return false;
    this.socket.send(text);
    return true;
  }
}

/**
 * A session's transport when the client came over the WebSocket bridge (`GET {base}/ws`) instead of WebRTC: no
 * SDP, no media tracks, one channel. It lets the same Session (pipeline, limits, messages, counters) serve both.
 */
export class WebSocketPeer implements SessionPeer {
  onVideoFrame: ((frame: I420Frame) => void) | undefined;
  onChannel: ((channel: EngineChannel) => void) | undefined;
  onStateChange: ((state: PeerState) => void) | undefined;
  #state: PeerState = 'connected';
  readonly #socket: WebSocket;
  readonly #channel: WebSocketChannel;
  #keepAlive: NodeJS.Timeout | undefined;
  #lastInbound = performance.now();

  constructor(socket: WebSocket) {
    this.#socket = socket;
    this.#channel = new WebSocketChannel(socket);
  }

  get state(): PeerState {
    return this.#state;
  }

  /** The last message from the client (pings answered do not count: a client that sends nothing is idle). */
  get lastInboundAt(): number {
    return this.#lastInbound;
  }

  /** Hands the channel to the session and starts relaying; call once the session has set its callbacks. */
  start(): void {
    const socket = this.#socket;
    let alive = true;
    socket.on('pong', () => {
      alive = true;
    });
    this.#keepAlive = setInterval(() => {
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, KEEPALIVE_MS);
    this.#keepAlive.unref();
    this.#lastInbound = performance.now();
    socket.on('message', (data, isBinary) => {
      this.#lastInbound = performance.now();
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (isBinary) this.#channel.onMessage?.(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
      else this.#channel.onMessage?.(buf.toString('utf8'));
    });
    const onClose = (): void => {
      clearInterval(this.#keepAlive);
      this.#channel.onClose?.();
      this.#setState('closed');
    };
    socket.on('close', onClose);
    this.onChannel?.(this.#channel);
    // The client may have gone while the session was being set up (a recording's start is awaited): its close event
    // came before this listener, so the session ends now instead of living on with no one to end it.
    if (socket.readyState === socket.CLOSED) onClose();
  }

  close(): void {
    clearInterval(this.#keepAlive);
    if (this.#socket.readyState === this.#socket.OPEN || this.#socket.readyState === this.#socket.CONNECTING) this.#socket.close(1000, 'session ended');
    this.#setState('closed');
  }

  #setState(s: PeerState): void {
    if (this.#state === s) return;
    this.#state = s;
    this.onStateChange?.(s);
  }
}
