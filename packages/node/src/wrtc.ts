import wrtcModule from '@roamhq/wrtc';
import type { I420Frame } from './stream-client.js';

/**
 * `@roamhq/wrtc` ships no types. Its peer connection is the W3C one, so the DOM's types describe it; only the
 * non-standard video source (frames in from Node) needs words of its own.
 */
export interface WrtcVideoSource {
  createTrack(): MediaStreamTrack;
  onFrame(frame: I420Frame): void;
}

export const wrtc = wrtcModule as unknown as {
  RTCPeerConnection: typeof RTCPeerConnection;
  nonstandard: { RTCVideoSource: new () => WrtcVideoSource };
};
