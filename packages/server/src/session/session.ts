import type { CaptureHintMessage, ServerMessage, SessionSummary } from '@sightline/protocol';
import type { EngineChannel, EnginePeer, PeerState, SessionPeer, SignalingPeer, VideoOutput } from '../engine/media-engine.js';
import { FramePipeline } from '../pipeline/frame-pipeline.js';
import type { Processor, ProcessorContext } from '../pipeline/processor.js';
import type { ProcessorRegistry } from '../pipeline/processor-registry.js';
import type { AudioProcessor, AudioStream } from '../audio/audio-processor.js';
import type { I420Frame } from '../models/i420.js';
import type { PushOptions } from '../pipeline/frame-pipeline.js';
import type { RecordingSummary, SessionRecorder } from '../recording/session-recorder.js';
import type { KeyPolicy } from '../auth/key-policy.js';
import { EncodedFrameInput, type EncodedFrameLimits } from './encoded-frame-input.js';
import { checkProcessorAllowed } from './key-limits.js';
import { SightlineError } from '../errors.js';
import { LatencySample } from './latency-sample.js';
import { ControlChannel } from './control-channel.js';
import { CaptureHintTracker, type HintInputs } from './capture-hints.js';
import { OutputRouter, type OutputWatcher } from './output-router.js';
import { notifyObservers, type SessionInfo, type SessionObserver } from './session-observer.js';

export interface SessionOptions {
  id: string;
  /** Which API key opened it (a hash prefix, never the key). */
  keyId: string;
  userId: string | null;
  processor: Processor<unknown>;
  params: unknown;
  /** Resolves live `set` requests. */
  registry: ProcessorRegistry;
  /** The transport: a WebRTC peer, or any other `SessionPeer` (the WebSocket bridge). */
  peer: SessionPeer;
  /** The WebRTC half of `peer` (offer/answer, ICE); absent for transports without it. */
  signaling?: SignalingPeer | undefined;
  ctx: Omit<ProcessorContext, 'sessionId'>;
  /** How long `disconnected` may last before the session ends. */
  disconnectedTimeoutMs: number;
  /**
   * A connected client that sends no media and no messages for this long is gone (killed, or its network dropped):
   * the session ends with `timeout`, and a WHEP viewer silent as long (no RTCP) is dropped. 0: never.
   */
  idleTimeoutMs?: number | undefined;
  /** How long after the answer the peer may take to connect. */
  connectTimeoutMs: number;
  /** Results are not sent while a channel has more than this many bytes buffered; they are counted instead. */
  maxBufferedBytes: number;
  /** The processed video sent back to the client (mode video/both). */
  videoOut?: VideoOutput | undefined;
  /** Limits for JPEG/WebP frames sent as binary chunk messages instead of a video track. */
  encodedFrames: EncodedFrameLimits;
  /** Audio processors for the client's audio track, params validated. */
  audio?: Array<{ processor: AudioProcessor<unknown>; params: unknown }>;
  /** Records the incoming video/audio and the messages sent (results, audio events, errors). */
  recorder?: SessionRecorder | undefined;
  /** The opening key's policy now (it can change when the keys file is reloaded): fps cap, allowed processors. */
  policy?: () => KeyPolicy | undefined;
  /** Tenant and transport, for observers. */
  tenant?: string;
  transport?: string;
  /** The history store, metrics: told of the session's start, params, frames, messages and end. */
  observers?: readonly SessionObserver[];
  /** Messages kept until the client's DataChannel opens (or an event stream attaches); default 32. */
  earlyMessages?: number;
}

/** Something that follows a session's messages besides its DataChannel (SSE, WebSocket). */
export type SessionWatcher = OutputWatcher<EndReason>;

export type EndReason = 'client_closed' | 'failed' | 'disconnected' | 'connect_timeout' | 'timeout' | 'deleted' | 'key_revoked' | 'shutdown' | 'error';

/**
 * One client: its peer connection, its DataChannels and its frame pipeline. Created by SessionManager; ends once,
 * releasing everything, on close/failed, on `disconnected` lasting too long, on DELETE or at shutdown.
 */
export class Session {
  readonly id: string;
  readonly keyId: string;
  readonly userId: string | null;
  readonly createdAt = Date.now();
  readonly #endListeners = new Set<(session: Session, reason: EndReason) => void>();
  /** Settles when the recording (if any) is finished, after the session ended; never rejects. */
  recordingDone: Promise<RecordingSummary | undefined> = Promise.resolve(undefined);

  readonly #opts: SessionOptions;
  #peer: SessionPeer;
  #signalingPeer: SignalingPeer | undefined;
  /** The DTLS fingerprint of the offer the current connection answered: the same client connection offers it again. */
  #offerFingerprint: string | undefined;
  /** The client asked for its video back (mode video/both): a resumed connection sends it too. */
  readonly videoBack: boolean;
  readonly #pipeline: FramePipeline;
  /** Where messages go: the DataChannel, watchers, the recording's log; held while no one can read. */
  readonly #router: OutputRouter<EndReason>;
  #endReason: EndReason | null = null;
  #renegotiations = 0;
  #timer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  /** Created on the first binary message: the JPEG/WebP frame path. */
  #encoded: EncodedFrameInput | undefined;
  /** Where `frame_ack`s go: the channel that sent the latest chunk. */
  #framesChannel: EngineChannel | undefined;
  readonly #audio: AudioStream[];
  readonly #observers: readonly SessionObserver[];
  /** Who this session is, for observers (processor and params follow `set`). */
  readonly info: SessionInfo;
  readonly #inferenceMs = new LatencySample();
  #audioMs = 0;
  #audioEvents = 0;
  readonly #hints = new CaptureHintTracker();
  /** Parses and decides the client's `ping` and `set` messages. */
  readonly #control: ControlChannel;
  #hintInputs: HintInputs;

  constructor(opts: SessionOptions) {
    this.#opts = opts;
    this.id = opts.id;
    this.keyId = opts.keyId;
    this.userId = opts.userId;
    this.#peer = opts.peer;
    this.#signalingPeer = opts.signaling;
    this.videoBack = opts.videoOut !== undefined;
    this.#observers = opts.observers ?? [];
    this.info = {
      id: opts.id,
      tenant: opts.tenant ?? opts.keyId,
      keyId: opts.keyId,
      userId: opts.userId,
      processor: opts.processor.name,
      params: opts.params as Record<string, unknown>,
      transport: opts.transport ?? 'webrtc',
      startedAt: this.createdAt,
    };
    this.#router = new OutputRouter<EndReason>({
      maxBufferedBytes: opts.maxBufferedBytes,
      earlyMessages: opts.earlyMessages,
      record: opts.recorder ? (text) => opts.recorder!.writeMessage(text) : undefined,
      videoOut: opts.videoOut,
      onViewersChanged: () => this.#refreshHint(),
      onSettled: (msg, text, ok) => {
        if (this.#observers.length > 0) notifyObservers(this.#observers, (o) => o.messageSent?.(this.info, msg, text, ok));
      },
    });
    this.#control = new ControlChannel({
      resolve: (name, params) => opts.registry.resolve(name, params),
      check: (processor, params) => checkProcessorAllowed(opts.policy?.(), processor, params),
    });
    this.#hintInputs = this.#captureInputs(opts.processor, opts.params);
    this.#pipeline = new FramePipeline({
      processor: opts.processor,
      params: opts.params,
      ctx: { ...opts.ctx, sessionId: opts.id },
      onResult: (m) => {
        this.#inferenceMs.add(m.timing.inference_ms, m.timing.total_ms);
        this.#deliver(m, true);
      },
      onError: (m) => this.#deliver(m, false),
      wantsFrames: () => this.#router.wantsFrames,
      maxFps: () => opts.policy?.()?.maxFps,
      onFrameResult: (frame) => this.#router.sendFrame(frame),
      onFrameDone: (frameId, status) => {
        if (this.#encoded) this.#deliver({ type: 'frame_ack', frame_id: frameId, status }, false, this.#framesChannel);
      },
    });
    this.#audio = (opts.audio ?? []).map(({ processor, params }) => {
      const stream = processor.open(params, { sessionId: opts.id });
      stream.onEvent = (e) => {
        this.#audioEvents++;
        this.#deliver(e, false);
      };
      return stream;
    });
    this.#attach(this.#peer);
    const idleMs = opts.idleTimeoutMs ?? 0;
    if (idleMs > 0) {
      this.#idleTimer = setInterval(() => this.#checkIdle(idleMs), Math.min(500, Math.max(50, idleMs / 10)));
      this.#idleTimer.unref();
    }
  }

  /**
   * A connected client gone silent (no media, no RTCP, no messages) for `idleMs` was killed or lost its network: the
   * session ends with `timeout` instead of waiting for ICE consent to fail (about 17 s). Silent WHEP viewers go too.
   */
  #checkIdle(idleMs: number): void {
    const now = performance.now();
    const last = this.#peer.lastInboundAt;
    if (this.#peer.state === 'connected' && last !== undefined && now - last > idleMs) {
      this.close('timeout');
      return;
    }
    this.#router.dropIdleViewers(now, idleMs);
  }

  /** Listens to a connection's media, channels and state. */
  #attach(peer: SessionPeer): void {
    peer.onVideoFrame = (frame) => this.#pushVideo(frame);
    peer.onAudioFrame = (chunk) => {
      const at = Date.now();
      this.#audioMs += (chunk.samples.length / chunk.channels / chunk.sampleRate) * 1000;
      this.#opts.recorder?.writeAudio(chunk, at);
      for (const s of this.#audio) s.push(chunk, at);
    };
    peer.onChannel = (ch) => this.#adoptChannel(ch);
    peer.onStateChange = (state) => {
      if (peer === this.#peer) this.#onPeerState(state);
    };
  }

  /**
   * Whether an offer for this live session restarts ICE on the current connection (the same client connection: same
   * DTLS fingerprint, and an engine that can), rather than being a new connection that resumes the session.
   */
  restartsInPlace(offerSdp: string): boolean {
    return this.#signalingPeer?.restartsIce === true && this.sameConnection(offerSdp);
  }

  /** The session's transport is a WebRTC connection (not the WebSocket bridge). */
  get overWebRtc(): boolean {
    return this.#signalingPeer !== undefined;
  }

  /** Whether an offer comes from the client connection the session is on (the same DTLS fingerprint). */
  sameConnection(offerSdp: string): boolean {
    return this.#offerFingerprint !== undefined && fingerprintOf(offerSdp) === this.#offerFingerprint;
  }

  /**
   * Moves the session onto a new connection (a client that reconnected with a new peer connection, or an engine
   * that cannot restart ICE in place): same id, processor, params and counters; the old connection is closed.
   * Answers the offer on the new one.
   */
  async resume(peer: EnginePeer, offerSdp: string, videoOut: VideoOutput | undefined): Promise<string> {
    if (this.closed) throw new SightlineError('session_not_found', `session "${this.id}" has ended`);
    const old = this.#peer;
    old.onVideoFrame = old.onAudioFrame = old.onChannel = old.onStateChange = undefined;
    this.#peer = peer;
    this.#signalingPeer = peer;
    this.#attach(peer);
    this.#router.dropChannels();
    this.#framesChannel = undefined;
    this.#router.replaceVideoOut(videoOut);
    old.close();
    this.#renegotiations++;
    // The new connection has until the connect timeout, whatever its answer: an offer the engine refuses must not
    // leave the session live on a peer that never connects (the idle check only watches connected peers).
    this.#arm(this.#opts.connectTimeoutMs, 'connect_timeout');
    return this.answer(offerSdp);
  }

  get closed(): boolean {
    return this.#endReason !== null;
  }

  get processorName(): string {
    return this.#pipeline.processorName;
  }

  /** The processor's params now in force (defaults applied). */
  get params(): unknown {
    return this.#pipeline.params;
  }

  /** Applies the offer and returns the answer SDP (at once with `trickle`); starts the connect timeout. */
  async answer(offerSdp: string, trickle = false): Promise<string> {
    const sdp = await this.#signaling().answer(offerSdp, trickle);
    this.#offerFingerprint = fingerprintOf(offerSdp);
    if (!this.closed && this.#peer.state !== 'connected') {
      this.#arm(this.#opts.connectTimeoutMs, 'connect_timeout');
    }
    return sdp;
  }

  /** Follows the session's results and errors (SSE, WebSocket); returns the unsubscribe function. */
  watch(w: SessionWatcher): () => void {
    if (this.closed) {
      w.onEnd(this.#endReason!);
      return () => undefined;
    }
    return this.#router.watch(w);
  }

  /**
   * The first capture hint, for the answer, from the size the client says it will send (offer `capture`): the client
   * then starts encoding at the hinted size. Counted as sent: frames of that shape bring no second hint.
   */
  primeCaptureHint(width: number, height: number): CaptureHintMessage | undefined {
    this.#hintInputs.keyMaxFps = this.#opts.policy?.()?.maxFps;
    return this.#hints.prime(width, height, this.#hintInputs);
  }

  /** The capture hint in force (sent to the client), if one was computed yet. */
  get captureHint(): CaptureHintMessage | undefined {
    return this.#hints.current;
  }

  /** The server's candidates found since the last call, and whether there will be more (trickle ICE). */
  takeLocalCandidates(): { candidates: Array<{ mid: string | null; candidate: string }>; complete: boolean } {
    return this.#signaling().takeLocalCandidates();
  }

  /**
   * Adds a WHEP viewer: `peer` (already answered, with `output` added) receives the annotated video — each processed
   * frame with its boxes drawn. The viewer ends when its connection does, on `removeViewer`, or with the session.
   */
  addViewer(id: string, peer: EnginePeer, output: VideoOutput): void {
    this.#router.addViewer(id, { peer, output });
  }

  removeViewer(id: string): boolean {
    return this.#router.removeViewer(id);
  }

  /** A trickled candidate from a WHEP viewer; false when there is no such viewer. */
  async addViewerCandidate(id: string, candidate: string, mid: string | null): Promise<boolean> {
    const v = this.#router.viewer(id);
    if (!v) return false;
    await v.peer.addRemoteCandidate(candidate, mid);
    return true;
  }

  get viewers(): number {
    return this.#router.viewerCount;
  }

  /** A trickled candidate from the client (PATCH). */
  addRemoteCandidate(candidate: string, mid: string | null): Promise<void> {
    return this.#signaling().addRemoteCandidate(candidate, mid);
  }

  /** Applies a new offer from the same client (ICE restart): same session, processor, params and counters. */
  async renegotiate(offerSdp: string): Promise<string> {
    const sdp = await this.#signaling().answer(offerSdp);
    this.#renegotiations++;
    return sdp;
  }

  /** How many times the client renegotiated (ICE restarts). */
  get renegotiations(): number {
    return this.#renegotiations;
  }

  summary(): SessionSummary {
    const c = this.#pipeline.counters;
    const e = this.#encoded?.counters;
    const out = this.#router.counters;
    return {
      session_id: this.id,
      processor: this.#pipeline.processorName,
      user_id: this.userId,
      frames_received: c.received + (e ? e.rejected + e.dropped : 0),
      frames_processed: c.processed,
      frames_dropped: c.dropped + (e?.dropped ?? 0),
      ...(e ? { frames_rejected: e.rejected } : {}),
      ...(this.#audioMs > 0 ? { audio_ms: Math.round(this.#audioMs), audio_events: this.#audioEvents } : {}),
      ...(this.#opts.recorder ? { recording: { media: this.#opts.recorder.paths.media, results: this.#opts.recorder.paths.results } } : {}),
      results_sent: out.sent,
      results_undelivered: out.undelivered,
      ...(out.held > 0 ? { results_held: out.held } : {}),
      end_reason: this.#endReason,
    };
  }

  /** Tells the client the server is draining: it keeps being served for `deadlineMs`, then ends. */
  notifyDraining(deadlineMs: number): void {
    if (!this.closed) this.#deliver({ type: 'draining', deadline_ms: Math.max(0, Math.round(deadlineMs)) }, false);
  }

  /** Ends the session: pipeline stopped, sinks stopped, connection closed. Idempotent. */
  close(reason: EndReason): void {
    if (this.#endReason !== null) return;
    this.#endReason = reason;
    clearTimeout(this.#timer);
    clearInterval(this.#idleTimer);
    this.#pipeline.close();
    this.#encoded?.close();
    for (const a of this.#audio) a.close();
    if (this.#opts.recorder) this.recordingDone = this.#opts.recorder.close();
    this.#router.closeViewers();
    this.#peer.close();
    // What still waited for a reader is lost now (counted as undelivered); watchers are told the session ended.
    this.#router.close(reason);
    if (this.#observers.length > 0) {
      const summary = this.summary();
      const latency = this.#inferenceMs.percentiles();
      notifyObservers(this.#observers, (o) => o.sessionEnded?.(this.info, summary, latency));
    }
    for (const fn of [...this.#endListeners]) {
      try {
        fn(this, reason);
      } catch {
        // One listener's failure must not keep the others from learning the session ended.
      }
    }
    this.#endListeners.clear();
  }

  /**
   * Calls `fn` once when the session ends (at once if it already has); returns the unsubscribe function. Any number
   * of listeners: the manager, a route that keeps per-session state (WHIP), … — none of them a reader of messages.
   */
  onEnd(fn: (session: Session, reason: EndReason) => void): () => void {
    if (this.#endReason !== null) {
      fn(this, this.#endReason);
      return () => undefined;
    }
    this.#endListeners.add(fn);
    return () => this.#endListeners.delete(fn);
  }

  /** The WebRTC half of the peer; a session over another transport has none (a clear 501, not a crash). */
  #signaling(): SignalingPeer {
    if (!this.#signalingPeer)
      throw new SightlineError('not_implemented', `session ${this.id} has no WebRTC connection (${this.info.transport}): no SDP or ICE to exchange`);
    return this.#signalingPeer;
  }

  #arm(ms: number, reason: EndReason): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.close(reason), ms);
    this.#timer.unref();
  }

  #onPeerState(state: PeerState): void {
    switch (state) {
      case 'connected':
        clearTimeout(this.#timer);
        return;
      case 'disconnected':
        this.#arm(this.#opts.disconnectedTimeoutMs, 'disconnected');
        return;
      case 'failed':
        this.close('failed');
        return;
      case 'closed':
        this.close('client_closed');
        return;
      default:
        return;
    }
  }

  #adoptChannel(ch: EngineChannel): void {
    // Results made before the channel opened (media can connect first) are sent once it is open.
    this.#router.addChannel(ch);
    ch.onMessage = (data) => this.#onClientMessage(ch, data);
    ch.onClose = () => {
      // A client that opened DataChannels and closed them all has gone (closing its peer connection closes them
      // at once, long before ICE notices); waiting for ICE consent to fail would hold the slot ~15 s.
      if (this.#router.removeChannel(ch) === 0) this.close('client_closed');
    };
  }

  /** A decoded frame (video track or JPEG/WebP): recorded as it arrived, then into the pipeline. */
  #pushVideo(frame: I420Frame, opts?: PushOptions): void {
    this.#opts.recorder?.writeVideo(frame, Date.now());
    this.#hintInputs.keyMaxFps = this.#opts.policy?.()?.maxFps;
    const hint = this.#hints.onFrame(frame.width, frame.height, this.#hintInputs);
    if (hint) this.#sendHint(hint);
    if (this.#observers.length > 0) notifyObservers(this.#observers, (o) => o.frameReceived?.(this.info));
    // The engine's frame number, where it knows it: a frame lost on the way does not shift the ids after it.
    if (frame.frameNumber !== undefined && opts?.frameId === undefined) opts = { ...opts, frameId: frame.frameNumber };
    this.#pipeline.push(frame, opts);
  }

  #deliver(msg: ServerMessage, isResult: boolean, to?: EngineChannel): void {
    this.#router.deliver(msg, isResult, to);
  }

  #sendHint(hint: CaptureHintMessage): void {
    this.#router.sendHint(hint);
  }

  /**
   * What the processor with these params needs, and whether size may be limited: not while the picture itself is
   * a product (video sent back, recorded, or watched by WHEP viewers).
   */
  #captureInputs(processor: Processor<unknown>, params: unknown): HintInputs {
    const pool = this.#opts.ctx.pool;
    return { need: processor.captureNeed?.(params, (name) => pool.model(name)), keyMaxFps: this.#opts.policy?.()?.maxFps, limitSize: this.#sizeLimited() };
  }

  #sizeLimited(): boolean {
    return this.#opts.videoOut === undefined && this.#opts.recorder === undefined && this.#router.viewerCount === 0;
  }

  /** Viewers came or went: the size limit may have changed. */
  #refreshHint(): void {
    this.#hintInputs.limitSize = this.#sizeLimited();
    const hint = this.#hints.onInputs(this.#hintInputs);
    if (hint) this.#sendHint(hint);
  }

  #openEncodedInput(): EncodedFrameInput {
    return new EncodedFrameInput({
      ...this.#opts.encodedFrames,
      onFrame: (frame, frameId, clientTsMs) => this.#pushVideo(frame, { frameId, clientTsMs }),
      onRejected: (frameId, code, message) => {
        const ch = this.#framesChannel;
        if (code !== 'dropped') {
          this.#deliver({ type: 'error', code, message, ...(frameId !== undefined ? { frame_id: frameId } : {}) }, false, ch);
        }
        if (frameId !== undefined) {
          this.#deliver({ type: 'frame_ack', frame_id: frameId, status: code === 'dropped' ? 'dropped' : 'rejected' }, false, ch);
        }
      },
    });
  }

  #onClientMessage(ch: EngineChannel, data: string | ArrayBuffer): void {
    if (typeof data !== 'string') {
      this.#framesChannel = ch;
      (this.#encoded ??= this.#openEncodedInput()).push(data);
      return;
    }
    const out = this.#control.handle(data, { processor: this.#pipeline.processorName, params: this.#pipeline.params as Record<string, unknown> });
    if (out.kind === 'reply') return this.#deliver(out.message, false, ch);
    this.#pipeline.setProcessor(out.processor, out.params);
    this.#hintInputs = this.#captureInputs(out.processor, out.params);
    const hint = this.#hints.onInputs(this.#hintInputs);
    if (hint) this.#sendHint(hint);
    this.info.processor = out.name;
    this.info.params = out.params as Record<string, unknown>;
    notifyObservers(this.#observers, (o) => o.paramsChanged?.(this.info, out.name, this.info.params, Date.now()));
    this.#deliver(out.ack, false, ch);
  }
}

/** The DTLS fingerprint an SDP names (session or first media level). */
function fingerprintOf(sdp: string): string | undefined {
  return /^a=fingerprint:(.+)$/m.exec(sdp)?.[1]?.trim().toLowerCase();
}
