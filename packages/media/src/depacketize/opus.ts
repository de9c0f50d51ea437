/**
 * Opus RTP "depacketizer" (RFC 7587): the payload is one Opus packet, which libavcodec's opus decoder takes as is.
 * It exists so that audio goes through the same assembler and counters as video.
 */
import type { DepacketizedFrame, Depacketizer } from './types.js';

function depacketize(payloads: readonly Uint8Array[]): DepacketizedFrame {
  const payload = payloads.find((p) => p.length > 0);
  if (!payload) return { data: new Uint8Array(0), keyframe: false, complete: false, skippedUnits: 0, problem: 'empty payload' };
  // Every Opus packet decodes on its own (the decoder's state only smooths across packets), so each is a "keyframe".
  if (payloads.length > 1) return { data: payload, keyframe: true, complete: false, skippedUnits: 0, problem: 'more than one packet for one Opus frame' };
  return { data: payload, keyframe: true, complete: true, skippedUnits: 0 };
}

export const opusDepacketizer: Depacketizer = { codec: 'opus', packetIsFrame: true, startsFrame: () => true, depacketize };
