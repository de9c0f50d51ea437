import type { CaptureHintMessage, EncodedFrameSenderStats, ResultMessage } from '@sightline/protocol';
import type { I420Frame } from '../models/i420.js';

/** A result with the RTT the client measured (frame handed to the transport → result received). */
export interface NodeResult {
  message: ResultMessage;
  rttMs: number | undefined;
}

/**
 * What `sightline stream` drives, whatever the transport: WebRTC with a video track (`input: 'i420'`), or JPEG
 * frames on a DataChannel or WebSocket (`input: 'jpeg'`).
 */
export interface StreamClient {
  readonly sessionId: string;
  readonly input: 'i420' | 'jpeg';
  onResult: ((r: NodeResult) => void) | undefined;
  onError: ((e: { code: string; message: string; frame_id?: number }) => void) | undefined;
  /** The server's latest capture hint (what its processor needs at most), if one came. */
  readonly captureHint: CaptureHintMessage | undefined;
  /** Called when a capture hint arrives. */
  onCaptureHint: ((h: CaptureHintMessage) => void) | undefined;
  /** Prepares the transport for frames of this size (the WebRTC encoder's warm-up); a no-op for JPEG transports. */
  warmUp(width: number, height: number): Promise<void>;
  send(frame: I420Frame): void;
  sendEncoded(image: Uint8Array): void;
  readonly senderStats: EncodedFrameSenderStats | undefined;
  close(): void;
}
