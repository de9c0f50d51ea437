import { createHash, randomUUID } from 'node:crypto';
import type { SessionSummary } from '@sightline/protocol';
import { AnswerFailedError, type EnginePeer, type MediaEngine, type PeerOptions, type SessionPeer, type VideoOutput } from '../engine/media-engine.js';
import type { InferencePool } from '../models/inference-pool.js';
import { UnknownProcessorError, type ProcessorRegistry } from '../pipeline/processor-registry.js';
import type { KeyPolicy } from '../auth/key-policy.js';
import { notifyObservers, type SessionObserver } from './session-observer.js';
import type { AudioProcessorRegistry } from '../audio/audio-registry.js';
import { checkAudioAllowed, checkProcessorAllowed, SessionLimitError } from './key-limits.js';
import type { EncodedFrameLimits } from './encoded-frame-input.js';
import { Session, type EndReason } from './session.js';
import { SessionRecorder } from '../recording/session-recorder.js';
import { SightlineError } from '../errors.js';
import { ENDED_SESSION_KEEP_MS, type Fleet } from '../cluster/fleet.js';

export interface SessionManagerOptions {
  engine: MediaEngine;
  registry: ProcessorRegistry;
  pool: InferencePool;
  peer: PeerOptions;
  maxSessions: number;
  disconnectedTimeoutMs: number;
  /** A connected client silent (no media, no messages) this long is gone: its session or WHEP viewer ends (0: never). */
  idleTimeoutMs?: number | undefined;
  connectTimeoutMs: number;
  maxBufferedBytes?: number;
  /** Limits of JPEG/WebP frames sent as chunks. */
  encodedFrames: EncodedFrameLimits;
  /** Audio processors sessions may ask for (offer `audio`). */
  audio?: AudioProcessorRegistry;
  /** Each key's policy (tenant, limits), looked up at every use: keys file reloads apply at once. */
  policyOf?: (keyId: string) => KeyPolicy | undefined;
  /**
   * Admission control: refuse new sessions (503 `overloaded`) while the inference pool's recent wait is above this
   * (ms), i.e. frames already wait longer than this for a worker. 0 disables.
   */
  admissionMaxWaitMs?: number;
  /** The history store, metrics…: told of every session's start, messages and end. */
  observers?: readonly SessionObserver[];
  /** Recording: where to, and whether every session is recorded or only those that ask. */
  recording?: { dir: string; all: boolean } | undefined;
  /** Called when a session ends, with its final counters. */
  onSessionEnd?: (summary: SessionSummary) => void;
  /** Messages a session keeps until its client's DataChannel opens (default 32). */
  earlyMessages?: number;
  /** WHEP viewers one session may have at once (default 4); each is a peer connection of its own. */
  maxViewers?: number;
  /** Asked before every new peer connection: a reason to refuse it (503 `at_capacity`), or undefined (FdBudget). */
  admitPeer?: () => string | undefined;
  /**
   * Where each key's sessions are counted against its `max_sessions`: this server alone (`SoloFleet`, the default)
   * or every server sharing Redis (`RedisFleet`). A session holds its slot from before its answer until it ends.
   */
  fleet: Fleet;
}

/** How long, and how many, ended sessions still answer their owner's DELETE with their final counters. */
const ENDED_KEEP_MS = ENDED_SESSION_KEEP_MS;
const ENDED_KEEP_MAX = 2048;

export class AtCapacityError extends SightlineError {
  constructor(max: number) {
    super('at_capacity', `server at capacity (${max} sessions); try again later`, { 'retry-after': '5' });
    this.name = 'AtCapacityError';
  }
}

export interface CreateSessionRequest {
  keyId: string;
  userId: string | null;
  processor: string;
  params: unknown;
  offerSdp: string;
  /** Answer before gathering completes (trickle ICE). */
  trickle?: boolean;
  /** Send processed video back on the session's own connection. */
  videoBack?: boolean;
  /** Audio processors by name with their params. */
  audio?: Record<string, unknown> | undefined;
  /** Record this session (needs the server's recording directory). */
  record?: boolean | undefined;
  /** Whether the client sends audio (the recording gets an audio track). */
  sendsAudio?: boolean | undefined;
  /** How the media comes in (for history and metrics); default `webrtc`. */
  transport?: 'webrtc' | 'whip' | undefined;
}

/** The session asked to be recorded on a server without a recording directory, or the recorder could not start. */
export class RecordingUnavailableError extends SightlineError {
  constructor(
    message: string,
    /** Not configured (the client's mistake: `recording_unavailable`) or failed to start (the server's: `recording_failed`). */
    readonly configured = false,
  ) {
    super(configured ? 'recording_failed' : 'recording_unavailable', message);
    this.name = 'RecordingUnavailableError';
  }
}

/** The inference pool is saturated: new sessions would only make every session slower (503). */
export class OverloadedError extends SightlineError {
  constructor(waitMs: number, limitMs: number) {
    super('overloaded', `server overloaded: frames wait ${Math.round(waitMs)} ms for inference (limit ${limitMs} ms); try another instance or retry shortly`, {
      'retry-after': '5',
    });
    this.name = 'OverloadedError';
  }
}

export class ShuttingDownError extends SightlineError {
  constructor() {
    super('not_ready', 'server is shutting down; connect to another instance or retry shortly');
    this.name = 'ShuttingDownError';
  }
}

/** The peer connection failed or closed before the answer was ready. */
export class PeerClosedError extends SightlineError {
  constructor(reason: string | null) {
    super('peer_closed', `the connection ended before the answer was ready (${reason ?? 'closed'})`);
    this.name = 'PeerClosedError';
  }
}

/** A transport other than WebRTC: a `SessionPeer` that starts relaying once its session has set its callbacks. */
export interface BridgedPeer extends SessionPeer {
  start(): void;
}

/** Makes, tracks and ends sessions. The only place that knows how many there are. */
export class SessionManager {
  readonly #opts: SessionManagerOptions;
  readonly #sessions = new Map<string, Session>();
  #starting = 0;
  readonly #observers: SessionObserver[];
  #closed = false;
  /** Recordings still being finished (ffmpeg flushing) after their session ended. */
  readonly #recordings = new Set<Promise<void>>();
  /** Recently ended sessions: id → owner and final counters (insertion order is end order). */
  /** WHEP viewers of a session whose offers are being answered (counted against --max-viewers). */
  readonly #viewersAnswering = new Map<string, number>();
  readonly #ended = new Map<string, { keyId: string; summary: SessionSummary; at: number }>();

  constructor(opts: SessionManagerOptions) {
    this.#opts = opts;
    this.#observers = [...(opts.observers ?? [])];
  }

  get size(): number {
    return this.#sessions.size;
  }

  get maxSessions(): number {
    return this.#opts.maxSessions;
  }

  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  /**
   * Validates processor and params, then opens a peer and answers the offer. Throws AtCapacityError,
   * UnknownProcessorError, InvalidParamsError, InvalidOfferError or ShuttingDownError; nothing is left behind when it throws.
   */
  async create(req: CreateSessionRequest): Promise<{ session: Session; answerSdp: string }> {
    return this.#open(
      req,
      () => {
        const peer = this.#newPeer();
        return { peer, signaling: peer, videoOut: req.videoBack ? peer.addVideoOutput() : undefined };
      },
      async (session) => session.answer(req.offerSdp, req.trickle ?? false),
    );
  }

  /**
   * An offer for a live session (`session_id`): an ICE restart on its current connection where the client kept it and
   * the engine can, else the session resumes on a new connection (same id, processor, params and counters).
   */
  async reconnect(session: Session, offerSdp: string): Promise<string> {
    // A session over another transport (the WebSocket bridge) has no connection to restart or replace: 501.
    if (!session.overWebRtc || session.restartsInPlace(offerSdp)) return session.renegotiate(offerSdp);
    if (session.sameConnection(offerSdp)) {
      throw new SightlineError(
        'not_implemented',
        "this server's media engine cannot restart ICE on a live connection: offer from a new connection with session_id to resume the session",
      );
    }
    const peer = this.#newPeer();
    try {
      return await session.resume(peer, offerSdp, session.videoBack ? peer.addVideoOutput() : undefined);
    } catch (err) {
      // A DELETE of the session, or a newer offer for it, closed this connection while it was being answered: the
      // request lost a race with another of the client's (409 peer_closed), it did not meet a server failure (503).
      if (err instanceof AnswerFailedError && peer.state === 'closed') {
        throw new PeerClosedError(session.closed ? session.summary().end_reason : 'replaced by a newer offer for this session');
      }
      throw err;
    }
  }

  /** A new peer connection of the engine, unless the process is short of native resources (503 `at_capacity`). */
  #newPeer(): EnginePeer {
    const refusal = this.#opts.admitPeer?.();
    if (refusal !== undefined) throw new SightlineError('at_capacity', refusal, { 'retry-after': '5' });
    return this.#opts.engine.createPeer(this.#opts.peer);
  }

  /**
   * A session over a transport without WebRTC (the WebSocket bridge): same checks and limits as `create`, with `peer`
   * as its transport; `peer.start()` is called once the session listens to it. Throws like `create`.
   */
  async createBridged(req: Omit<CreateSessionRequest, 'offerSdp' | 'trickle' | 'videoBack'>, peer: BridgedPeer, transport: 'ws' = 'ws'): Promise<Session> {
    const { session } = await this.#open(
      { ...req, transport },
      () => ({ peer, videoOut: undefined }),
      async () => {
        peer.start();
        return '';
      },
    );
    return session;
  }

  async #open(
    req: Pick<CreateSessionRequest, 'keyId' | 'userId' | 'processor' | 'params' | 'audio' | 'record' | 'sendsAudio'> & {
      transport?: 'webrtc' | 'whip' | 'ws' | undefined;
    },
    makePeer: () => { peer: SessionPeer; signaling?: EnginePeer | undefined; videoOut: VideoOutput | undefined },
    connect: (session: Session) => Promise<string>,
  ): Promise<{ session: Session; answerSdp: string }> {
    if (this.#closed) throw new ShuttingDownError();
    const { processor, params } = this.#opts.registry.resolve(req.processor, req.params);
    const audio = req.audio && Object.keys(req.audio).length > 0 ? this.#audioRegistry().resolve(req.audio) : [];
    const policy = this.#opts.policyOf?.(req.keyId);
    checkProcessorAllowed(policy, processor, params);
    checkAudioAllowed(
      policy,
      audio.map((a) => a.processor.name),
    );
    const maxWait = this.#opts.admissionMaxWaitMs ?? 0;
    if (maxWait > 0) {
      const { waitMs } = this.#opts.pool.load();
      if (waitMs > maxWait) throw new OverloadedError(waitMs, maxWait);
    }
    if (this.#sessions.size + this.#starting >= this.#opts.maxSessions) throw new AtCapacityError(this.#opts.maxSessions);
    const rec = this.#opts.recording;
    if (req.record && !rec) throw new RecordingUnavailableError('this server does not record sessions (start it with --record-dir)');
    const id = randomUUID();
    const fleet = this.#opts.fleet;
    this.#starting++;
    let session: Session | undefined;
    let recorder: SessionRecorder | undefined;
    let admitted = false;
    try {
      // Last of the checks, as it takes the key's slot (fleet-wide with Redis); released below if the start fails.
      admitted = await fleet.admit(req.keyId, id, policy?.maxSessions);
      if (!admitted) throw new SessionLimitError(policy!.maxSessions!, policy!.name);
      if (rec && (rec.all || req.record)) {
        recorder = await SessionRecorder.create({ dir: rec.dir, sessionId: id, audio: req.sendsAudio ?? false }).catch((err: unknown) => {
          throw new RecordingUnavailableError(`the recording could not start: ${err instanceof Error ? err.message : String(err)}`, true);
        });
      }
      const { peer, signaling, videoOut } = makePeer();
      session = new Session({
        videoOut,
        id,
        keyId: req.keyId,
        userId: req.userId,
        processor,
        params,
        registry: this.#opts.registry,
        peer,
        signaling,
        ctx: { pool: this.#opts.pool },
        disconnectedTimeoutMs: this.#opts.disconnectedTimeoutMs,
        idleTimeoutMs: this.#opts.idleTimeoutMs ?? 0,
        connectTimeoutMs: this.#opts.connectTimeoutMs,
        maxBufferedBytes: this.#opts.maxBufferedBytes ?? 1 << 20,
        encodedFrames: this.#opts.encodedFrames,
        audio,
        recorder,
        policy: () => this.#opts.policyOf?.(req.keyId),
        tenant: policy?.tenant ?? req.keyId,
        earlyMessages: this.#opts.earlyMessages,
        transport: req.transport ?? 'webrtc',
        observers: this.#observers,
      });
      recorder = undefined;
      const answerSdp = await connect(session);
      if (this.#closed) throw new ShuttingDownError();
      if (session.closed) throw new PeerClosedError(session.summary().end_reason);
      this.#sessions.set(session.id, session);
      const live = session;
      notifyObservers(this.#observers, (o) => o.sessionStarted?.(live.info, live));
      session.onEnd((s) => {
        this.#sessions.delete(s.id);
        fleet.release(s.keyId, s.id);
        const summary = s.summary();
        this.#remember(s.id, s.keyId, summary);
        this.#opts.onSessionEnd?.(summary);
        const done = s.recordingDone.then(() => undefined);
        this.#recordings.add(done);
        void done.finally(() => this.#recordings.delete(done));
      });
      return { session, answerSdp };
    } catch (err) {
      session?.close('error');
      void recorder?.close();
      if (admitted) fleet.release(req.keyId, id);
      throw err;
    } finally {
      this.#starting--;
    }
  }

  #audioRegistry(): AudioProcessorRegistry {
    if (!this.#opts.audio) throw new UnknownProcessorError('audio', []);
    return this.#opts.audio;
  }

  /**
   * Opens a WHEP viewer of a live session's annotated video; throws InvalidOfferError on a bad offer, and 503
   * `at_capacity` when the session has `maxViewers` already. A viewer that has not connected within the connect
   * timeout is dropped (its resource then answers 404), so viewers that never connect hold nothing.
   */
  async addViewer(session: Session, offerSdp: string): Promise<{ viewerId: string; answerSdp: string }> {
    const max = this.#opts.maxViewers ?? 4;
    // Viewers being answered count too: offers that arrive together cannot all pass the check before any is added.
    const answering = this.#viewersAnswering.get(session.id) ?? 0;
    if (session.viewers + answering >= max) {
      throw new SightlineError(
        'at_capacity',
        `session ${session.id} has ${session.viewers + answering} WHEP viewers, the most it may have (--max-viewers ${max}); stop one (DELETE its resource) or retry later`,
        { 'retry-after': '5' },
      );
    }
    this.#viewersAnswering.set(session.id, answering + 1);
    const peer = this.#newPeer();
    const output = peer.addVideoOutput();
    try {
      const answerSdp = await peer.answer(offerSdp);
      const viewerId = randomUUID();
      session.addViewer(viewerId, peer, output);
      const timer = setTimeout(() => {
        if (peer.state !== 'connected') session.removeViewer(viewerId);
      }, this.#opts.connectTimeoutMs);
      timer.unref();
      return { viewerId, answerSdp };
    } catch (err) {
      output.stop();
      peer.close();
      throw err;
    } finally {
      const left = (this.#viewersAnswering.get(session.id) ?? 1) - 1;
      if (left > 0) this.#viewersAnswering.set(session.id, left);
      else this.#viewersAnswering.delete(session.id);
    }
  }

  /**
   * The final counters of a session that ended recently (10 minutes, the last 2048), for its own key only: a
   * client's DELETE that comes after the server ended the session (the client closed its connection first, a
   * timeout) is answered with them instead of a 404.
   */
  endedSummary(id: string, keyId: string | undefined): SessionSummary | undefined {
    const e = this.#ended.get(id);
    if (!e || e.keyId !== keyId || Date.now() - e.at > ENDED_KEEP_MS) return undefined;
    return e.summary;
  }

  #remember(id: string, keyId: string, summary: SessionSummary): void {
    const now = Date.now();
    this.#ended.set(id, { keyId, summary, at: now });
    for (const [old, e] of this.#ended) {
      if (this.#ended.size <= ENDED_KEEP_MAX && now - e.at <= ENDED_KEEP_MS) break;
      this.#ended.delete(old);
    }
  }

  /** Ends one session; returns its final counters, or undefined if there is none with that id. */
  end(id: string, reason: EndReason): SessionSummary | undefined {
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    s.close(reason);
    return s.summary();
  }

  /** Resolves when every ended session's recording is finished (each is bounded by the recorder's own timeout). */
  async recordingsDone(): Promise<void> {
    await Promise.all([...this.#recordings]);
  }

  /**
   * Graceful drain: refuses new sessions, tells every live one `draining` with the deadline, and resolves when all
   * have ended by themselves or `deadlineMs` has passed (whichever first). Sessions still live are left for closeAll.
   */
  async drain(deadlineMs: number): Promise<{ remaining: number }> {
    this.#closed = true;
    for (const s of this.#sessions.values()) s.notifyDraining(deadlineMs);
    const until = Date.now() + deadlineMs;
    while (this.#sessions.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    return { remaining: this.#sessions.size };
  }

  /**
   * Ends the live sessions of keys that are no longer valid (`isValid(keyId)` false: removed from the keys file),
   * with `key_revoked`: a session must not outlive its key, nor run on without the key's limits. Returns how many.
   */
  endRevoked(isValid: (keyId: string) => boolean): number {
    let n = 0;
    for (const s of [...this.#sessions.values()]) {
      if (s.keyId !== undefined && !isValid(s.keyId)) {
        s.close('key_revoked');
        n++;
      }
    }
    return n;
  }

  /** Ends every session and refuses new ones. */
  closeAll(reason: EndReason = 'shutdown'): void {
    this.#closed = true;
    for (const s of [...this.#sessions.values()]) s.close(reason);
  }
}

/** A stable, non-secret id for an API key (to tie sessions to keys without holding the key). */
export function keyIdOf(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}
