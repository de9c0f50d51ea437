/**
 * The small interface the rest of the server sees of a WebRTC stack. libdatachannel with FFmpeg in-process implements
 * it (ndc/ndc-engine.ts); another stack (werift, a hardware SFU) can be added beside it and given to `createServer`.
 */
import type { AudioChunk, I420Frame } from '@sightline/media';
import { SightlineError } from '../errors.js';

export interface IceServerConfig {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface PeerOptions {
  iceServers: IceServerConfig[];
  /** UDP ports the engine may use for ICE (both inclusive), if it supports a range. */
  portRange?: { min: number; max: number } | undefined;
  /** Public IPv4 written into host candidates of answers (1:1 NAT). */
  announcedIp?: string | undefined;
  /** Longest wait for ICE gathering before answering with the candidates found so far. */
  iceGatheringTimeoutMs: number;
}

/** Connection states as in RTCPeerConnection.connectionState. */
export type PeerState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/** A DataChannel the client opened. */
export interface EngineChannel {
  readonly label: string;
  readonly open: boolean;
  readonly bufferedAmount: number;
  /** Sends a text message; returns false when the channel is not open. */
  send(text: string): boolean;
  onMessage: ((data: string | ArrayBuffer) => void) | undefined;
  onOpen: (() => void) | undefined;
  onClose: (() => void) | undefined;
}

/**
 * What a session needs of its transport, whatever it is (a WebRTC peer, the WebSocket bridge): its state, decoded
 * media and channels as typed callback fields set by the owner, and an idempotent `close()`.
 */
export interface SessionPeer {
  readonly state: PeerState;
  /**
   * performance.now() when something last came from the client (media or RTCP packets, channel messages), or when it
   * connected if later; undefined for a transport that does not track it (then it never idles out).
   */
  readonly lastInboundAt?: number | undefined;
  onVideoFrame: ((frame: I420Frame) => void) | undefined;
  /**
   * Decoded audio of every remote audio track (one chunk per Opus frame, 20 ms from browsers); the samples are the receiver's own.
   * Optional: a transport without media tracks need not declare it.
   */
  onAudioFrame?: ((chunk: AudioChunk) => void) | undefined;
  onChannel: ((channel: EngineChannel) => void) | undefined;
  onStateChange: ((state: PeerState) => void) | undefined;
  close(): void;
}

/** The WebRTC half of a peer: offer/answer, ICE candidates, outgoing video. */
export interface SignalingPeer {
  /**
   * Whether `answer()` may be called again on a live connection to restart ICE in place. Where not (libdatachannel),
   * a reconnecting client's new connection resumes the session on a new peer instead.
   */
  readonly restartsIce: boolean;
  /**
   * Applies the client's offer and returns the answer SDP: once ICE gathering completes (or times out), or at once
   * with `trickle` (candidates then come from `takeLocalCandidates`).
   */
  answer(offerSdp: string, trickle?: boolean): Promise<string>;
  /** Adds an outgoing video track (call before `answer`): frames given to `send` go to the remote peer. */
  addVideoOutput(): VideoOutput;
  /** Local candidates found since the last call (trickle), and whether gathering is complete. */
  takeLocalCandidates(): { candidates: Array<{ mid: string | null; candidate: string }>; complete: boolean };
  /** A trickled remote candidate (an `a=candidate:` value without the `a=`), for the media section `mid`. */
  addRemoteCandidate(candidate: string, mid: string | null): Promise<void>;
}

/** One server-side WebRTC peer connection: both halves. */
export interface EnginePeer extends SessionPeer, SignalingPeer {}

/** An outgoing video track. */
export interface VideoOutput {
  send(frame: I420Frame): void;
  stop(): void;
}

export interface MediaEngine {
  readonly name: string;
  createPeer(opts: PeerOptions): EnginePeer;
}

/** Thrown by `answer()` when the engine rejects the offer SDP. */
export class InvalidOfferError extends SightlineError {
  constructor(readonly detail: string) {
    super('invalid_sdp', `invalid SDP offer: ${detail}`);
    this.name = 'InvalidOfferError';
  }
}

/** Thrown by `answer()` when the engine could not produce an answer for a valid offer. */
export class AnswerFailedError extends SightlineError {
  constructor(readonly detail: string) {
    super('ice_gathering_failed', `could not answer the offer: ${detail}`, { 'retry-after': '1' });
    this.name = 'AnswerFailedError';
  }
}
