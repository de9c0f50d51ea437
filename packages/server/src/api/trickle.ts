import { MAX_TRICKLE_CANDIDATES } from '../engine/sdp-check.js';
import { parseSdpFrag, type SdpFrag } from '../engine/sdpfrag.js';
import type { Session } from '../session/session.js';
import { Errors, SightlineError } from './errors.js';

/**
 * Parses a trickle PATCH body (RFC 8840 fragment): not SDP, or more than MAX_TRICKLE_CANDIDATES candidates, is a 400
 * `invalid_sdp` before anything is applied. Every trickle route (`/webrtc/sessions/:id`, WHIP, WHEP) reads it here.
 */
export function parseTrickle(body: string): SdpFrag {
  let frag;
  try {
    frag = parseSdpFrag(body);
  } catch (err) {
    throw Errors.invalidSdp((err as Error).message);
  }
  const n = frag.candidates.length;
  if (n > MAX_TRICKLE_CANDIDATES) {
    throw Errors.invalidSdp(`the fragment has ${n} candidates; at most ${MAX_TRICKLE_CANDIDATES} are accepted in one PATCH (send the rest in another)`);
  }
  return frag;
}

/**
 * One trickle-ICE exchange (RFC 8840 fragments): applies the client's candidates, returns the server's new ones as a
 * fragment, ending with `a=end-of-candidates` once the server has gathered them all.
 */
export async function exchangeCandidates(session: Session, body: string | SdpFrag): Promise<string> {
  const frag = typeof body === 'string' ? parseTrickle(body) : body;
  for (const c of frag.candidates) {
    try {
      await session.addRemoteCandidate(c.candidate, c.mid);
    } catch (err) {
      // The session's own refusal (no WebRTC half, …) stands as it is; anything the engine refused is a bad candidate.
      if (err instanceof SightlineError) throw err;
      throw Errors.invalidSdp(`candidate refused: ${(err as Error).message}`);
    }
  }
  const mine = session.takeLocalCandidates();
  const lines: string[] = [];
  let mid: string | null | undefined;
  for (const c of mine.candidates) {
    if (c.mid !== mid && c.mid !== null) lines.push(`a=mid:${c.mid}`);
    mid = c.mid;
    lines.push(`a=${c.candidate}`);
  }
  if (mine.complete) lines.push('a=end-of-candidates');
  return lines.length > 0 ? `${lines.join('\r\n')}\r\n` : '';
}
