import { VideoDecoder } from '../codecs/video-decoder.js';
import type { VideoCodec } from '../codecs/video-codec.js';
import type { AccessUnitDecoder } from './video-receiver.js';

/** The receive path's decoder: libavcodec in-process (low delay, no frame held), failures as a status, never thrown. */
export function ffmpegDecoder(codec: VideoCodec): AccessUnitDecoder {
  const d = new VideoDecoder(codec);
  return {
    decode: (au, rtpTimestamp, keyframe) => {
      const r = d.decode(au, rtpTimestamp, keyframe);
      return r.status === 'error' ? { frames: r.frames, error: r.error ?? 'decode error' } : { frames: r.frames };
    },
    close: () => d.close(),
  };
}
