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
import { EarlyMessages, type HeldMessage } from './early-messages.js';
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
export interface SessionWatcher {
  onMessage(msg: ServerMessage): void;
  onEnd(reason: EndReason): void;
}

export type EndReason = 'client_closed' | 'failed' | 'disconnected' | 'connect_timeout' | 'deleted' | 'shutdown' | 'error';

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
  readonly #peer: SessionPeer;
  readonly #pipeline: FramePipeline;
  readonly #channels: EngineChannel[] = [];
  #resultsSent = 0;
  #undelivered = 0;
  readonly #watchers = new Set<SessionWatcher>();
  readonly #viewers = new Map<string, { peer: EnginePeer; output: VideoOutput }>();
  #endReason: EndReason | null = null;
  #renegotiations = 0;
  #timer: NodeJS.Timeout | undefined;
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
  /** Messages no one could read yet (the DataChannel not open), sent when a reader appears. */
  readonly #early: EarlyMessages;
  /** Results that waited in #early and were then delivered. */
  #resultsHeld = 0;
  readonly #hints = new CaptureHintTracker();
  /** Parses and decides the client's `ping` and `set` messages. */
  readonly #control: ControlChannel;
  #hintInputs: HintInputs;
  /** The latest capture hint could not be delivered yet: sent again when a channel opens. */
  #hintPending = false;

  constructor(opts: SessionOptions) {
    this.#opts = opts;
    this.id = opts.id;
    this.keyId = opts.keyId;
    this.userId = opts.userId;
    this.#peer = opts.peer;
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
    this.#early = new EarlyMessages(opts.earlyMessages ?? 32);
    this.#control = new ControlChannel({
      resolve: (name, params) => opts.registry.resolve(name, params),
      check: (processor, params) => checkProcessorAllowed(opts.policy?.(), processor, params),
    });
    this.#hintInputs = this.#captureInputs(opts.processor, opts.params);
    this.#pipeline = new FramePipeline({
      processor: opts.processor,
      params: opts.params,
      ctx: { ...opts.ctx, sessionId: opts.id },
      onResult: (m) => this.#deliver(m, true),
      onError: (m) => this.#deliver(m, false),
      wantsFrames: () => this.#viewers.size > 0 || opts.videoOut !== undefined,
      maxFps: () => opts.policy?.()?.maxFps,
      onFrameResult: (frame) => {
        opts.videoOut?.send(frame);
        for (const v of this.#viewers.values()) v.output.send(frame);
      },
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
    this.#peer.onVideoFrame = (frame) => this.#pushVideo(frame);
    this.#peer.onAudioFrame = (chunk) => {
      const at = Date.now();
      this.#audioMs += (chunk.samples.length / chunk.channels / chunk.sampleRate) * 1000;
      opts.recorder?.writeAudio(chunk, at);
      for (const s of this.#audio) s.push(chunk, at);
    };
    this.#peer.onChannel = (ch) => this.#adoptChannel(ch);
    this.#peer.onStateChange = (state) => this.#onPeerState(state);
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
    this.#watchers.add(w);
    this.#flushEarly();
    return () => this.#watchers.delete(w);
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
    if (this.closed) {
      output.stop();
      peer.close();
      return;
    }
    this.#viewers.set(id, { peer, output });
    peer.onStateChange = (st) => {
      if (st === 'failed' || st === 'closed') this.removeViewer(id);
    };
    this.#refreshHint();
  }

  removeViewer(id: string): boolean {
    const v = this.#viewers.get(id);
    if (!v) return false;
    this.#viewers.delete(id);
    v.output.stop();
    v.peer.close();
    if (!this.closed) this.#refreshHint();
    return true;
  }

  /** A trickled candidate from a WHEP viewer; false when there is no such viewer. */
  async addViewerCandidate(id: string, candidate: string, mid: string | null): Promise<boolean> {
    const v = this.#viewers.get(id);
    if (!v) return false;
    await v.peer.addRemoteCandidate(candidate, mid);
    return true;
  }

  get viewers(): number {
    return this.#viewers.size;
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
      results_sent: this.#resultsSent,
      results_undelivered: this.#undelivered + this.#early.size,
      ...(this.#resultsHeld > 0 ? { results_held: this.#resultsHeld } : {}),
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
    this.#pipeline.close();
    this.#encoded?.close();
    for (const a of this.#audio) a.close();
    if (this.#opts.recorder) this.recordingDone = this.#opts.recorder.close();
    for (const id of [...this.#viewers.keys()]) this.removeViewer(id);
    this.#peer.close();
    this.#channels.length = 0;
    // What was still waiting for a reader is lost now: counted (and shown to observers) as undelivered.
    for (const m of this.#early.takeAll()) this.#settle(m, false);
    for (const w of this.#watchers) w.onEnd(reason);
    this.#watchers.clear();
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
    if (!this.#opts.signaling)
      throw new SightlineError('not_implemented', `session ${this.id} has no WebRTC connection (${this.info.transport}): no SDP or ICE to exchange`);
    return this.#opts.signaling;
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
    this.#channels.push(ch);
    ch.onMessage = (data) => this.#onClientMessage(ch, data);
    // Results made before the channel opened (media can connect first) are sent once it is open.
    if (ch.open) this.#flushEarly();
    else ch.onOpen = () => this.#flushEarly();
    ch.onClose = () => {
      const i = this.#channels.indexOf(ch);
      if (i >= 0) this.#channels.splice(i, 1);
      // A client that opened DataChannels and closed them all has gone (closing its peer connection closes them
      // at once, long before ICE notices); waiting for ICE consent to fail would hold the slot ~15 s.
      if (this.#channels.length === 0) this.close('client_closed');
    };
  }

  /** Results go to the channel labelled "results" (the seed's), else to the first channel the client opened. */
  #resultsChannel(): EngineChannel | undefined {
    return this.#channels.find((c) => c.label === 'results' && c.open) ?? this.#channels.find((c) => c.open);
  }

  /** A decoded frame (video track or JPEG/WebP): recorded as it arrived, then into the pipeline. */
  #pushVideo(frame: I420Frame, opts?: PushOptions): void {
    this.#opts.recorder?.writeVideo(frame, Date.now());
    this.#hintInputs.keyMaxFps = this.#opts.policy?.()?.maxFps;
    const hint = this.#hints.onFrame(frame.width, frame.height, this.#hintInputs);
    if (hint) this.#sendHint(hint);
    if (this.#observers.length > 0) notifyObservers(this.#observers, (o) => o.frameReceived?.(this.info));
    this.#pipeline.push(frame, opts);
  }

  /**
   * Sends a message to the client: on `to` (a reply on the channel that asked), else on the results channel and to
   * every watcher. A message no one can read yet — no open channel, no watcher — is held until one appears.
   */
  #deliver(msg: ServerMessage, isResult: boolean, to?: EngineChannel): void {
    const text = JSON.stringify(msg);
    // The recording keeps what the models said: results, audio events and errors (not pongs or acks).
    if (this.#opts.recorder && (isResult || msg.type === 'error' || msg.type === 'speech_start' || msg.type === 'speech_end' || msg.type === 'audio_level')) {
      this.#opts.recorder.writeMessage(text);
    }
    if (isResult && msg.type === 'result') this.#inferenceMs.add(msg.timing.inference_ms, msg.timing.total_ms);
    const held = { msg, text, isResult };
    if (to) return this.#settle(held, to.bufferedAmount <= this.#opts.maxBufferedBytes && to.send(text));
    const ch = this.#resultsChannel();
    if (ch === undefined && this.#watchers.size === 0 && !this.closed) {
      const evicted = this.#early.hold(held);
      if (evicted) this.#settle(evicted, false);
      return;
    }
    this.#settle(held, this.#send(ch, held));
  }

  /** Sends on `ch` (if any) and to the watchers; true when someone took it. */
  #send(ch: EngineChannel | undefined, m: HeldMessage): boolean {
    let ok = ch !== undefined && ch.bufferedAmount <= this.#opts.maxBufferedBytes && ch.send(m.text);
    for (const w of this.#watchers) {
      try {
        w.onMessage(m.msg);
        ok = true;
      } catch {
        // A broken watcher is its route's business; the others still get the message.
      }
    }
    return ok;
  }

  /** A message's fate is known: counted, and told to observers (history, metrics). */
  #settle(m: HeldMessage, ok: boolean): void {
    if (this.#observers.length > 0) notifyObservers(this.#observers, (o) => o.messageSent?.(this.info, m.msg, m.text, ok));
    if (!m.isResult) return;
    if (ok) this.#resultsSent++;
    else this.#undelivered++;
  }

  /** A reader appeared: what was held goes out, oldest first, then the capture hint if it never reached the client. */
  #flushEarly(): void {
    const ch = this.#resultsChannel();
    if (ch === undefined && this.#watchers.size === 0) return;
    for (const m of this.#early.takeAll()) {
      const ok = this.#send(ch, m);
      if (ok && m.isResult) this.#resultsHeld++;
      this.#settle(m, ok);
    }
    if (this.#hintPending && this.#hints.current) this.#sendHint(this.#hints.current);
  }

  /** The capture hint goes out like any message, but is kept aside (not in the bounded buffer) until a reader takes it. */
  #sendHint(hint: CaptureHintMessage): void {
    this.#hintPending = !this.#send(this.#resultsChannel(), { msg: hint, text: JSON.stringify(hint), isResult: false });
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
    return this.#opts.videoOut === undefined && this.#opts.recorder === undefined && this.#viewers.size === 0;
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
