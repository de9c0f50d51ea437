import { VideoDecoder, type CodecDevice, type VideoCodec } from '@sightline/media';
import type { AccessUnitDecoder } from './video-receiver.js';

/**
 * The receive path's decoder: libavcodec in-process (low delay, no frame held), failures as a status, never thrown;
 * on `device` (`--codec-device`) when given, else the CPU.
 */
export function ffmpegDecoder(codec: VideoCodec, device?: CodecDevice): AccessUnitDecoder {
  const d = new VideoDecoder(codec, device ? { device } : {});
  return {
    decode: (au, rtpTimestamp, keyframe) => {
      const r = d.decode(au, rtpTimestamp, keyframe);
      return r.status === 'error' ? { frames: r.frames, error: r.error ?? 'decode error' } : { frames: r.frames };
    },
    close: () => d.close(),
  };
}
