import { isRtcp, OpusDecoder, parseRtpPacket } from '@sightline/media';
import type { AudioReceiver, AudioReceiverFactory } from './ndc-engine.js';

/** Longest gap filled with silence; a longer jump is a new timeline (a paused or restarted sender). */
const MAX_GAP_SAMPLES = 5 * 48_000;

/**
 * The receive path of an Opus track: RTP in arrival order straight to libopus, mono 48 kHz PCM out. The PCM follows
 * the RTP clock: a gap in timestamps (DTX silence, where senders stop sending, or a lost packet) becomes as many
 * zero samples, so audio processors see time as the sender's microphone did — as libwebrtc's playout does. RTCP
 * and other payload types are ignored.
 */
export const opusReceiver: AudioReceiverFactory = (payloadType, onChunk): AudioReceiver => {
  const decoder = new OpusDecoder({ channels: 1 });
  let closed = false;
  /** The RTP timestamp the next packet has when nothing is missing. */
  let expected: number | undefined;
  return {
    onPacket(buf) {
      if (closed || isRtcp(buf)) return;
      const p = parseRtpPacket(buf);
      if (!p || p.payloadType !== payloadType || p.payload.length === 0) return;
      if (expected !== undefined) {
        const gap = (p.timestamp - expected) | 0;
        if (gap < 0) return; // older than what was played: a reordered or duplicate packet
        if (gap > 0 && gap <= MAX_GAP_SAMPLES) onChunk({ samples: new Int16Array(gap), sampleRate: 48_000, channels: 1 });
      }
      let samples = 0;
      for (const chunk of decoder.decode(p.payload).chunks) {
        samples += chunk.samples.length / chunk.channels;
        onChunk(chunk);
      }
      expected = (p.timestamp + samples) >>> 0;
    },
    close() {
      if (closed) return;
      closed = true;
      decoder.close();
    },
  };
};
