import type { CaptureHintMessage, EncodedFrameSenderStats, ResultMessage, SessionSummary } from '@sightline/protocol/wire';

/** A raw frame: planar I420 (Y, then U and V at half size), as FFmpeg's `-pix_fmt yuv420p` writes it. */
export interface I420Frame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A result with the RTT the client measured (frame handed to the transport → result received). */
export interface NodeResult {
  message: ResultMessage;
  rttMs: number | undefined;
}

/** An error message of the session (the DataChannel's or the socket's). */
export interface StreamError {
  code: string;
  message: string;
  frame_id?: number;
}

/**
 * One session, whatever the transport: WebRTC with a video track (`input: 'i420'`), or JPEG frames on a DataChannel
 * or WebSocket (`input: 'jpeg'`).
 */
export interface StreamClient {
  readonly sessionId: string;
  readonly input: 'i420' | 'jpeg';
  onResult: ((r: NodeResult) => void) | undefined;
  onError: ((e: StreamError) => void) | undefined;
  /** The server's latest capture hint (what its processor needs at most), if one came. */
  readonly captureHint: CaptureHintMessage | undefined;
  /** Called when a capture hint arrives. */
  onCaptureHint: ((h: CaptureHintMessage) => void) | undefined;
  send(frame: I420Frame): void;
  sendEncoded(image: Uint8Array): void;
  readonly senderStats: EncodedFrameSenderStats | undefined;
  /** Ends the session: its final counters when the server answered (at most a few seconds), else undefined. Idempotent. */
  close(): Promise<SessionSummary | undefined>;
}
