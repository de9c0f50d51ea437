import type { AckMessage, ErrorBody, OfferResponse, ResultMessage, ServerMessage } from '@sightline/protocol';
import { SendTimeTracker, supportsEncodedStreams } from './send-time-tracker.js';

export interface ConnectOptions {
  /** Server URL including its base path, e.g. `https://host:8080` or `https://host/skin`. */
  url: string;
  apiKey: string;
  userId?: string;
  processor?: string;
  params?: Record<string, unknown>;
  /** A stream to send, or constraints for getUserMedia (default `{ video: true }`). */
  media?: MediaStream | MediaStreamConstraints;
  iceServers?: RTCIceServer[];
  /** Longest wait for ICE gathering before sending the offer (non-trickle). */
  iceGatheringTimeoutMs?: number;
  /** Label of the results DataChannel (the seed's is "results"). */
  channelLabel?: string;
}

/** A result with the latency the SDK measured for it. */
export interface ResultEvent {
  message: ResultMessage;
  /** Frame sent → result received, ms, when the browser can tell when each frame was sent. */
  rttMs: number | undefined;
  receivedAt: number;
}

export type SessionState = 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

interface Events {
  result: ResultEvent;
  state: SessionState;
  error: { code: string; message: string };
}

/** Thrown by `connect()` when the server refuses the offer. */
export class SightlineError extends Error {
  constructor(readonly code: string, message: string, readonly status?: number) {
    super(message);
    this.name = 'SightlineError';
  }
}

/** A live connection to a Sightline server. */
export class SightlineSession {
  readonly #listeners: { [K in keyof Events]: Set<(e: Events[K]) => void> } = { result: new Set(), state: new Set(), error: new Set() };
  readonly #tracker = new SendTimeTracker();
  readonly #ownsStream: boolean;
  readonly #pending = new Map<string | number, { resolve: (a: AckMessage) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  #nextId = 1;
  #closed = false;
  sessionId = '';

  private constructor(
    readonly pc: RTCPeerConnection,
    readonly channel: RTCDataChannel,
    readonly stream: MediaStream,
    ownsStream: boolean,
    readonly url: string,
    readonly apiKey: string,
  ) {
    this.#ownsStream = ownsStream;
  }

  /** Opens the camera (or takes the given stream), offers it to the server and waits for the answer. */
  static async connect(opts: ConnectOptions): Promise<SightlineSession> {
    const media = opts.media ?? { video: true };
    const ownsStream = !(media instanceof MediaStream);
    const stream = media instanceof MediaStream ? media : await navigator.mediaDevices.getUserMedia(media);
    const useEncoded = supportsEncodedStreams();
    let pc: RTCPeerConnection;
    let channel: RTCDataChannel;
    try {
      pc = new RTCPeerConnection({
        iceServers: opts.iceServers ?? [],
        ...(useEncoded ? { encodedInsertableStreams: true } : {}),
      } as RTCConfiguration);
      channel = pc.createDataChannel(opts.channelLabel ?? 'results');
    } catch (err) {
      if (ownsStream) for (const t of stream.getTracks()) t.stop();
      throw err;
    }
    const url = opts.url.replace(/\/+$/, '');
    const s = new SightlineSession(pc, channel, stream, ownsStream, url, opts.apiKey);
    try {
      for (const track of stream.getTracks()) {
        const sender = pc.addTrack(track, stream);
        if (useEncoded && track.kind === 'video') s.#tracker.attach(sender);
      }
      s.#wire();
      await pc.setLocalDescription(await pc.createOffer());
      await waitForGathering(pc, opts.iceGatheringTimeoutMs ?? 3000);
      const res = await fetch(`${url}/webrtc/offer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': opts.apiKey },
        body: JSON.stringify({
          sdp: pc.localDescription!.sdp,
          type: 'offer',
          ...(opts.userId ? { user_id: opts.userId } : {}),
          ...(opts.processor ? { processor: opts.processor } : {}),
          ...(opts.params ? { params: opts.params } : {}),
        }),
      });
      const body = (await res.json().catch(() => null)) as OfferResponse | ErrorBody | null;
      if (!res.ok || !body || !('sdp' in body)) {
        const err = body && 'error' in body ? body.error : { code: 'http_error', message: `server answered ${res.status}` };
        throw new SightlineError(err.code, err.message, res.status);
      }
      s.sessionId = body.session_id;
      await pc.setRemoteDescription({ type: 'answer', sdp: body.sdp });
      return s;
    } catch (err) {
      await s.close();
      throw err;
    }
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof Events>(event: K, fn: (e: Events[K]) => void): () => void {
    this.#listeners[event].add(fn);
    return () => this.#listeners[event].delete(fn);
  }

  /** Whether per-frame RTT is measured (needs encoded streams). */
  get measuresRtt(): boolean {
    return this.#tracker.available;
  }

  /** Frames the browser has sent so far (when measurable). */
  get framesSent(): number {
    return this.#tracker.sent;
  }

  /**
   * Changes params (merged over the current ones) and/or switches processor without reconnecting. Resolves with the
   * server's ack (the params now in force); rejects with its error.
   */
  setParams(params: Record<string, unknown>, processor?: string, timeoutMs = 5000): Promise<AckMessage> {
    if (this.#closed || this.channel.readyState !== 'open') return Promise.reject(new SightlineError('not_connected', 'the session is not connected'));
    const id = this.#nextId++;
    return new Promise<AckMessage>((resolve, reject) => {
      const timer = setTimeout(() => this.#settle(id, new SightlineError('timeout', `no answer to set within ${timeoutMs} ms`)), timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.channel.send(JSON.stringify({ type: 'set', id, params, ...(processor ? { processor } : {}) }));
    });
  }

  #settle(id: string | number, err: Error | undefined, ack?: AckMessage): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(ack!);
  }

  /** Ends the session locally (camera released at once), then tells the server (bounded wait). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.channel.close();
    this.pc.close();
    if (this.#ownsStream) for (const t of this.stream.getTracks()) t.stop();
    this.#emit('state', 'closed');
    for (const set of Object.values(this.#listeners)) set.clear();
    for (const id of [...this.#pending.keys()]) this.#settle(id, new SightlineError('closed', 'the session closed'));
    if (this.sessionId) {
      await fetch(`${this.url}/webrtc/sessions/${encodeURIComponent(this.sessionId)}`, {
        method: 'DELETE',
        headers: { 'api-key': this.apiKey },
        signal: AbortSignal.timeout(3000),
      }).catch(() => undefined);
    }
  }

  #emit<K extends keyof Events>(event: K, e: Events[K]): void {
    for (const fn of this.#listeners[event]) {
      try {
        fn(e);
      } catch (err) {
        console.error(err);
      }
    }
  }

  #wire(): void {
    this.channel.onmessage = (ev: MessageEvent) => {
      const now = performance.now();
      let msg: ServerMessage;
      try {
        msg = JSON.parse(String(ev.data)) as ServerMessage;
      } catch {
        return;
      }
      if (msg.type === 'result') {
        const sent = this.#tracker.take(msg.frame_id);
        this.#emit('result', { message: msg, rttMs: sent === undefined ? undefined : now - sent, receivedAt: now });
      } else if (msg.type === 'error') {
        if (msg.id !== undefined && this.#pending.has(msg.id)) this.#settle(msg.id, new SightlineError(msg.code, msg.message));
        else this.#emit('error', { code: msg.code, message: msg.message });
      } else if (msg.type === 'ack' && msg.id !== undefined) {
        this.#settle(msg.id, undefined, msg);
      }
    };
    this.pc.onconnectionstatechange = () => {
      const st = this.pc.connectionState;
      if (st === 'connected' || st === 'disconnected' || st === 'failed' || st === 'closed') this.#emit('state', st);
      else if (st === 'connecting' || st === 'new') this.#emit('state', 'connecting');
    };
  }
}

function waitForGathering(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = (): void => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/** Connects to a Sightline server. */
export const connect = (opts: ConnectOptions): Promise<SightlineSession> => SightlineSession.connect(opts);
