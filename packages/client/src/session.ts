import type {
  AckMessage,
  AudioEventMessage,
  CaptureHintMessage,
  EncodedFrameSenderStats,
  ResultMessage,
  ServerMessage,
  SessionSummary,
} from '@sightline/protocol/wire';
import { JpegCapture, type JpegCaptureOptions } from './jpeg-capture.js';
import { PeerLink } from './peer-link.js';
import { RollingStats } from './rolling-stats.js';
import type { LatencyMethod } from './send-time-tracker.js';
import { deleteSession, fetchIceServers, SightlineError } from './signaling.js';

export { SightlineError };

export interface ConnectOptions {
  /** Server URL including its base path, e.g. `https://host:8080` or `https://host/skin`. */
  url: string;
  apiKey: string;
  userId?: string;
  processor?: string;
  params?: Record<string, unknown>;
  /** A stream to send, or constraints for getUserMedia (default `{ video: true }`). */
  media?: MediaStream | MediaStreamConstraints;
  /** ICE servers; default: fetched from the server's `/webrtc/ice-servers` (fresh TURN credentials each session). */
  iceServers?: RTCIceServer[];
  /** `relay` forces TURN (testing, or networks where only relayed media works). */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Longest wait for ICE gathering before sending the offer (non-trickle). */
  iceGatheringTimeoutMs?: number;
  /** `video` or `both`: the server also sends the processed video back (`session.remoteStream`). */
  mode?: 'results' | 'video' | 'both';
  /** Trickle ICE: send the offer before gathering completes and exchange candidates afterwards (faster connect). */
  trickle?: boolean;
  /** Label of the results DataChannel (the seed's is "results"). */
  channelLabel?: string;
  /** Reconnect by itself (ICE restart, then a fresh session with the same params); default true. */
  reconnect?: boolean;
  /** No message from the server for this long while connected means the link is dead; default 4000 ms. */
  livenessTimeoutMs?: number;
  /**
   * `media` (default): the camera goes as a WebRTC video track. `datachannel`: frames are grabbed, encoded as
   * JPEG/WebP (`capture`) and sent as binary chunks on the DataChannel, at most `window` unacknowledged — for
   * clients that cannot or will not send a media track.
   */
  transport?: 'media' | 'datachannel';
  /** datachannel: how frames are grabbed and encoded. */
  capture?: JpegCaptureOptions;
  /** datachannel: most frames unacknowledged (default 2). */
  window?: number;
  /**
   * Audio processors for the stream's audio track, with their params: `{ vad: {}, 'audio-level': {} }`. Their
   * messages arrive as `audio` events. The media must include audio (e.g. `media: { video: true, audio: true }`).
   */
  audio?: Record<string, Record<string, unknown>>;
  /** Ask the server to record this session (it must run with `--record-dir`). */
  record?: boolean;
  /**
   * The server says how much picture its processor needs (`capture_hint`: the model's input size, useful fps); by
   * default the SDK sends no more — the video encoding is scaled down and capped (`RTCRtpSender.setParameters`), or
   * JPEG frames are scaled before encoding. `true` keeps sending the full size and rate (hints still arrive as
   * `capture_hint` events).
   */
  ignoreCaptureHints?: boolean;
  /**
   * Video codecs to send, in order of preference (`'H264'`, `'VP8'`, `'VP9'`, `'AV1'`, `'H265'`): only these are
   * offered (`RTCRtpTransceiver.setCodecPreferences`), so the server must decode one of them (else 400
   * `unsupported_codec`). Default: the browser's own list, of which the server answers the first in its preference.
   */
  videoCodecs?: string[];
}

/** A result with the latency the SDK measured for it. */
export interface ResultEvent {
  message: ResultMessage;
  /** Frame sent → result received, ms, when the browser can tell when each frame was sent. */
  rttMs: number | undefined;
  /** When the frame left the browser (epoch ms), if known. */
  sentAt: number | undefined;
  /** The frame's RTP timestamp (90 kHz clock of its capture time), if known. */
  rtpTimestamp: number | undefined;
  /** When the result arrived (epoch ms). */
  receivedAt: number;
}

/** Every second: rolling figures over the last 5 s. */
export interface StatsEvent {
  rttP50: number | undefined;
  rttP95: number | undefined;
  /** Results received per second. */
  resultsPerSecond: number;
  /** Video frames sent per second (when measurable). */
  framesSentPerSecond: number | undefined;
  /** Frames the server dropped on this session so far (latest-frame rule). */
  dropped: number;
  latencyMethod: LatencyMethod;
  reconnects: number;
}

export type SessionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

interface Events {
  result: ResultEvent;
  stats: StatsEvent;
  state: SessionState;
  error: { code: string; message: string };
  /** Audio processor messages: speech_start, speech_end, audio_level. */
  audio: AudioEventMessage;
  /** The server's capture hint for this session (applied unless `ignoreCaptureHints`). */
  capture_hint: CaptureHintMessage;
  /**
   * The server is shutting down: this session is served for `deadlineMs` more, then ends; the SDK then reconnects
   * (to another instance, through your load balancer) as after any lost connection.
   */
  draining: { deadlineMs: number };
}

type ResolvedOptions = Required<Pick<ConnectOptions, 'reconnect' | 'livenessTimeoutMs' | 'iceGatheringTimeoutMs' | 'channelLabel'>> & ConnectOptions;

const now = (): number => performance.timeOrigin + performance.now();

/** A live connection to a Sightline server that survives network changes and server restarts. */
export class SightlineSession {
  readonly #listeners: { [K in keyof Events]: Set<(e: Events[K]) => void> } = {
    result: new Set(),
    state: new Set(),
    error: new Set(),
    stats: new Set(),
    audio: new Set(),
    draining: new Set(),
    capture_hint: new Set(),
  };
  readonly #pending = new Map<string | number, { resolve: (a: AckMessage) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  readonly #opts: ResolvedOptions;
  readonly #stats = new RollingStats();
  readonly #ownsStream: boolean;
  #link: PeerLink;
  #processor: string | undefined;
  #params: Record<string, unknown> | undefined;
  #state: SessionState = 'connecting';
  #nextId = 1;
  #lastHeard = 0;
  #dropped = 0;
  #reconnects = 0;
  #sentMark = { at: 0, sent: 0 };
  #recovering = false;
  #closed = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #capture: JpegCapture | undefined;
  #summary: SessionSummary | undefined;
  #hint: CaptureHintMessage | undefined;

  private constructor(
    opts: ResolvedOptions,
    readonly stream: MediaStream,
    ownsStream: boolean,
    iceServers: RTCIceServer[],
  ) {
    this.#opts = opts;
    this.#ownsStream = ownsStream;
    this.#processor = opts.processor;
    this.#params = opts.params;
    this.#link = this.#newLink(iceServers);
  }

  /** Opens the camera (or takes the given stream), offers it to the server and waits for the answer. */
  static async connect(options: ConnectOptions): Promise<SightlineSession> {
    const opts = {
      reconnect: true,
      livenessTimeoutMs: 4000,
      iceGatheringTimeoutMs: 3000,
      channelLabel: 'results',
      ...options,
      url: options.url.replace(/\/+$/, ''),
    };
    const media = opts.media ?? { video: true };
    const ownsStream = !(media instanceof MediaStream);
    const stream = media instanceof MediaStream ? media : await navigator.mediaDevices.getUserMedia(media);
    let s: SightlineSession | undefined;
    try {
      s = new SightlineSession(opts, stream, ownsStream, opts.iceServers ?? (await fetchIceServers(opts.url, opts.apiKey)));
      await s.#open(s.#link);
      s.#timer = setInterval(() => s!.#tick(), 1000);
      if (opts.transport === 'datachannel') {
        const session = s;
        session.#capture = new JpegCapture(
          stream,
          opts.capture ?? {},
          () => session.#state === 'connected' && session.#link.channel.readyState === 'open' && session.#link.sender!.ready,
          (image, at) => session.#link.sender!.offer(image, at),
        );
        await session.#capture.start();
      }
      return s;
    } catch (err) {
      if (s) await s.close();
      else if (ownsStream) for (const t of stream.getTracks()) t.stop();
      throw err;
    }
  }

  get sessionId(): string {
    return this.#link.sessionId;
  }

  get pc(): RTCPeerConnection {
    return this.#link.pc;
  }

  /** The processed video from the server (mode `video`/`both`), once its track arrived. */
  get remoteStream(): MediaStream | undefined {
    return this.#link.remoteStream;
  }

  get state(): SessionState {
    return this.#state;
  }

  /** How this browser measures per-frame RTT. */
  get latencyMethod(): LatencyMethod {
    return this.#link.sender ? 'frame-chunks' : this.#link.tracker.method;
  }

  get measuresRtt(): boolean {
    return this.latencyMethod !== 'none';
  }

  /** Frames sent on the current connection (when measurable). */
  get framesSent(): number {
    return this.#link.sender?.stats.sent ?? this.#link.tracker.sent;
  }

  /** datachannel transport: the ack window's counters on the current connection. */
  get frameStats(): EncodedFrameSenderStats | undefined {
    return this.#link.sender?.stats;
  }

  /** The server's final counters of the session, once `close()` has resolved (undefined if it could not be reached). */
  get summary(): SessionSummary | undefined {
    return this.#summary;
  }

  /** The capture hint the server sent last, if any. */
  get captureHint(): CaptureHintMessage | undefined {
    return this.#hint;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof Events>(event: K, fn: (e: Events[K]) => void): () => void {
    this.#listeners[event].add(fn);
    return () => this.#listeners[event].delete(fn);
  }

  /**
   * Changes params (merged over the current ones) and/or switches processor without reconnecting. Resolves with the
   * server's ack (the params now in force); rejects with its error. A later fresh session keeps these settings.
   */
  setParams(params: Record<string, unknown>, processor?: string, timeoutMs = 5000): Promise<AckMessage> {
    const ch = this.#link.channel;
    if (this.#closed || ch.readyState !== 'open') return Promise.reject(new SightlineError('not_connected', 'the session is not connected'));
    const id = this.#nextId++;
    return new Promise<AckMessage>((resolve, reject) => {
      const timer = setTimeout(() => this.#settle(id, new SightlineError('timeout', `no answer to set within ${timeoutMs} ms`)), timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      ch.send(JSON.stringify({ type: 'set', id, params, ...(processor ? { processor } : {}) }));
    });
  }

  /**
   * Ends the session: stops sending (the camera is released at once), asks the server to end it (`DELETE`, bounded
   * wait) so that its final counters come back as `summary`, then closes the connection. In that order the server
   * never sees a closed connection before the `DELETE`. Resolves with the summary; idempotent.
   */
  async close(): Promise<SessionSummary | undefined> {
    if (this.#closed) return this.#summary;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#capture?.stop();
    if (this.#ownsStream) for (const t of this.stream.getTracks()) t.stop();
    for (const key of [...this.#pending.keys()]) this.#settle(key, new SightlineError('closed', 'the session closed'));
    const id = this.#link.sessionId;
    if (id) this.#summary = await deleteSession(this.#opts.url, this.#opts.apiKey, id);
    this.#link.close();
    this.#setState('closed');
    for (const set of Object.values(this.#listeners)) set.clear();
    return this.#summary;
  }

  #newLink(iceServers: RTCIceServer[]): PeerLink {
    return new PeerLink({
      url: this.#opts.url,
      apiKey: this.#opts.apiKey,
      stream: this.stream,
      iceServers,
      iceTransportPolicy: this.#opts.iceTransportPolicy ?? 'all',
      iceGatheringTimeoutMs: this.#opts.iceGatheringTimeoutMs,
      channelLabel: this.#opts.channelLabel,
      transport: this.#opts.transport ?? 'media',
      window: this.#opts.window ?? 2,
      followHints: this.#opts.ignoreCaptureHints !== true,
      videoCodecs: this.#opts.videoCodecs,
    });
  }

  /** Negotiates a new session on `link` (or resumes `resumeId` on it) and waits until it is connected. */
  async #open(link: PeerLink, resumeId?: string): Promise<void> {
    this.#wire(link);
    await link.negotiate({
      ...(resumeId ? { sessionId: resumeId } : {}),
      userId: this.#opts.userId,
      processor: this.#processor,
      params: this.#params,
      trickle: this.#opts.trickle,
      mode: this.#opts.mode,
      audio: this.#opts.audio,
      record: this.#opts.record,
    });
    this.#processor ??= link.processor;
    if (link.captureHint) {
      this.#hint = link.captureHint;
      this.#emit('capture_hint', link.captureHint);
    }
    await link.whenOpen(15_000);
    this.#lastHeard = now();
    this.#sentMark = { at: now(), sent: link.sender?.stats.sent ?? link.tracker.sent };
    this.#setState('connected');
  }

  #wire(link: PeerLink): void {
    link.channel.onmessage = (ev: MessageEvent) => {
      if (link !== this.#link) return;
      this.#lastHeard = now();
      let msg: ServerMessage;
      try {
        msg = JSON.parse(String(ev.data)) as ServerMessage;
      } catch {
        return;
      }
      this.#onMessage(msg, link);
    };
    link.channel.onclose = () => link === this.#link && this.#recover('channel closed');
    link.pc.onconnectionstatechange = () => {
      if (link !== this.#link) return;
      const st = link.pc.connectionState;
      if (st === 'failed') this.#recover('connection failed');
      else if (st === 'disconnected')
        setTimeout(() => link === this.#link && link.pc.connectionState === 'disconnected' && this.#recover('disconnected'), 1500);
    };
  }

  #onMessage(msg: ServerMessage, link: PeerLink): void {
    switch (msg.type) {
      case 'result': {
        const arrived = now();
        const sentAt = link.sender?.sentAt(msg.frame_id);
        const sent = link.sender
          ? sentAt === undefined
            ? undefined
            : { at: performance.timeOrigin + sentAt, rtp: undefined }
          : msg.rtp_timestamp !== undefined
            ? link.tracker.takeByRtp(msg.rtp_timestamp)
            : link.tracker.take(msg.frame_id);
        const rttMs = sent === undefined ? undefined : arrived - sent.at;
        this.#dropped = msg.dropped;
        this.#stats.addResult(arrived, rttMs);
        this.#emit('result', { message: msg, rttMs, sentAt: sent?.at, rtpTimestamp: sent?.rtp, receivedAt: arrived });
        return;
      }
      case 'error':
        if (msg.id !== undefined && this.#pending.has(msg.id)) this.#settle(msg.id, new SightlineError(msg.code, msg.message));
        else this.#emit('error', { code: msg.code, message: msg.message });
        return;
      case 'ack':
        this.#processor = msg.processor;
        this.#params = msg.params;
        if (msg.id !== undefined) this.#settle(msg.id, undefined, msg);
        return;
      case 'frame_ack':
        link.sender?.onAck(msg);
        return;
      case 'speech_start':
      case 'speech_end':
      case 'audio_level':
        this.#emit('audio', msg);
        return;
      case 'draining':
        this.#emit('draining', { deadlineMs: msg.deadline_ms });
        return;
      case 'capture_hint':
        this.#hint = msg;
        if (!this.#opts.ignoreCaptureHints) {
          this.#capture?.setLimit({ maxWidth: msg.max_width, maxHeight: msg.max_height, maxFps: msg.max_fps });
          link.applyCaptureHint(msg).catch((err: unknown) => this.#emit('error', { code: 'capture_hint_failed', message: String(err) }));
        }
        this.#emit('capture_hint', msg);
        return;
      case 'pong':
      case 'ready':
        return;
    }
  }

  #tick(): void {
    if (this.#closed) return;
    const t = now();
    const link = this.#link;
    if (this.#state === 'connected') {
      if (link.channel.readyState === 'open') link.channel.send(JSON.stringify({ type: 'ping' }));
      if (this.#opts.reconnect && t - this.#lastHeard > this.#opts.livenessTimeoutMs) this.#recover('no message from the server');
    }
    const sent = link.sender?.stats.sent ?? link.tracker.sent;
    const fps = link.tracker.method === 'none' && !link.sender ? undefined : ((sent - this.#sentMark.sent) * 1000) / Math.max(1, t - this.#sentMark.at);
    this.#sentMark = { at: t, sent };
    this.#emit('stats', {
      rttP50: this.#stats.rtt(50, t),
      rttP95: this.#stats.rtt(95, t),
      resultsPerSecond: this.#stats.resultsPerSecond(t),
      framesSentPerSecond: fps,
      dropped: this.#dropped,
      latencyMethod: link.sender ? 'frame-chunks' : link.tracker.method,
      reconnects: this.#reconnects,
    });
  }

  /** ICE restart of the same session first; then fresh sessions with the same processor and params, with backoff. */
  async #recover(reason: string): Promise<void> {
    if (this.#recovering || this.#closed || !this.#opts.reconnect) return;
    this.#recovering = true;
    this.#setState('reconnecting');
    this.#emit('error', { code: 'reconnecting', message: reason });
    try {
      for (let attempt = 0; !this.#closed; attempt++) {
        try {
          if (attempt === 0 && this.#link.sessionId && this.#link.pc.connectionState !== 'closed') {
            await this.#link.negotiate({ sessionId: this.#link.sessionId }, true);
            await this.#link.whenOpen(5000);
            this.#lastHeard = now();
          } else if (attempt === 1 && this.#link.sessionId) {
            // A new connection that resumes the same session (same id, processor, params, counters): for servers
            // whose engine cannot restart ICE in place, and networks where the old connection cannot come back.
            const old = this.#link;
            this.#link = this.#newLink(this.#opts.iceServers ?? (await fetchIceServers(this.#opts.url, this.#opts.apiKey)));
            old.close();
            await this.#open(this.#link, old.sessionId);
          } else {
            const old = this.#link;
            // Ended on the server first (it may already have ended it: then it answers the final counters).
            if (old.sessionId) void deleteSession(this.#opts.url, this.#opts.apiKey, old.sessionId).finally(() => old.close());
            else old.close();
            this.#link = this.#newLink(this.#opts.iceServers ?? (await fetchIceServers(this.#opts.url, this.#opts.apiKey)));
            await this.#open(this.#link);
          }
          this.#reconnects++;
          this.#setState('connected');
          return;
        } catch {
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(8000, 500 * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2)));
        }
      }
    } finally {
      this.#recovering = false;
    }
  }

  #setState(s: SessionState): void {
    if (s === this.#state) return;
    this.#state = s;
    this.#emit('state', s);
  }

  #settle(id: string | number, err: Error | undefined, ack?: AckMessage): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(ack!);
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
}

/** Connects to a Sightline server. */
export const connect = (opts: ConnectOptions): Promise<SightlineSession> => SightlineSession.connect(opts);
