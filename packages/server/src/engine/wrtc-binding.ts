/**
 * The one typed view of `@roamhq/wrtc` (it ships no types): the parts the engine, the Node client and the tests use,
 * both sides of a connection. Everything else imports `wrtc` from here, never the package with its own cast.
 */
import wrtcModule from '@roamhq/wrtc';
import type { I420Frame } from './media-frames.js';

export interface WrtcDataChannel {
  label: string;
  readyState: string;
  bufferedAmount: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(): void;
  onmessage: ((e: { data: string | ArrayBuffer }) => void) | null;
  onopen: (() => void) | null;
  onclose: (() => void) | null;
}

export interface WrtcTrack {
  kind: string;
  stop(): void;
}

export interface WrtcSessionDescription {
  type: string;
  sdp: string;
}

export interface WrtcPeerConnection {
  connectionState: 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';
  iceGatheringState: string;
  localDescription: WrtcSessionDescription | null;
  createOffer(opts?: { iceRestart?: boolean }): Promise<WrtcSessionDescription>;
  createAnswer(): Promise<WrtcSessionDescription>;
  setLocalDescription(d: WrtcSessionDescription): Promise<void>;
  setRemoteDescription(d: WrtcSessionDescription): Promise<void>;
  addIceCandidate(c: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }): Promise<void>;
  addTrack(track: WrtcTrack): unknown;
  createDataChannel(label: string): WrtcDataChannel;
  getStats(): Promise<Map<string, { type: string; framesEncoded?: number }>>;
  close(): void;
  ontrack: ((e: { track: WrtcTrack }) => void) | null;
  ondatachannel: ((e: { channel: WrtcDataChannel }) => void) | null;
  onconnectionstatechange: (() => void) | null;
  onicegatheringstatechange: (() => void) | null;
  onicecandidate: ((e: { candidate: { candidate: string; sdpMid: string | null } | null }) => void) | null;
}

/** PCM as wrtc's audio sinks give it and its audio sources take it. */
export interface WrtcAudioData {
  samples: Int16Array;
  sampleRate: number;
  bitsPerSample: number;
  channelCount: number;
  numberOfFrames: number;
}

export interface WrtcVideoSink {
  onframe: ((e: { frame: I420Frame }) => void) | null;
  stop(): void;
}

export interface WrtcAudioSink {
  ondata: ((e: WrtcAudioData) => void) | null;
  stop(): void;
}

export interface WrtcVideoSource {
  createTrack(): WrtcTrack;
  onFrame(frame: I420Frame): void;
}

export interface WrtcAudioSource {
  createTrack(): WrtcTrack;
  onData(data: WrtcAudioData): void;
}

export const wrtc = wrtcModule as unknown as {
  RTCPeerConnection: new (config?: object) => WrtcPeerConnection;
  nonstandard: {
    RTCVideoSink: new (track: WrtcTrack) => WrtcVideoSink;
    RTCVideoSource: new () => WrtcVideoSource;
    RTCAudioSink: new (track: WrtcTrack) => WrtcAudioSink;
    RTCAudioSource: new () => WrtcAudioSource;
  };
};
