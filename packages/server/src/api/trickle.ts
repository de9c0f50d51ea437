import { parseSdpFrag } from '../engine/sdpfrag.js';
import type { Session } from '../session/session.js';
import { Errors, SightlineError } from './errors.js';

/**
 * One trickle-ICE exchange (RFC 8840 fragments): applies the client's candidates, returns the server's new ones as a
 * fragment, ending with `a=end-of-candidates` once the server has gathered them all.
 */
export async function exchangeCandidates(session: Session, body: string): Promise<string> {
  let frag;
  try {
    frag = parseSdpFrag(body);
  } catch (err) {
    throw Errors.invalidSdp((err as Error).message);
  }
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
