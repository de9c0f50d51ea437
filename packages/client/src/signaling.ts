import type { ErrorBody, OfferResponse, SessionSummary } from '@sightline/protocol/wire';

/** An error the server (or the network) answered with. `status` is the HTTP status, 0 when unreachable. */
export class SightlineError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SightlineError';
  }
}

export interface OfferBody {
  sdp: string;
  userId?: string | undefined;
  processor?: string | undefined;
  params?: Record<string, unknown> | undefined;
  sessionId?: string | undefined;
  trickle?: boolean | undefined;
  mode?: 'results' | 'video' | 'both' | undefined;
  audio?: Record<string, Record<string, unknown>> | undefined;
  record?: boolean | undefined;
  /** The size of the video about to be sent: the answer then carries the capture hint. */
  capture?: { width: number; height: number } | undefined;
}

/** POST {url}/webrtc/offer; resolves with the answer or throws a SightlineError (network errors: status 0). */
export async function postOffer(url: string, apiKey: string, body: OfferBody, timeoutMs = 15_000): Promise<OfferResponse> {
  let res: Response;
  try {
    res = await fetch(`${url}/webrtc/offer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': apiKey },
      body: JSON.stringify({
        sdp: body.sdp,
        type: 'offer',
        ...(body.userId ? { user_id: body.userId } : {}),
        ...(body.processor ? { processor: body.processor } : {}),
        ...(body.params ? { params: body.params } : {}),
        ...(body.sessionId ? { session_id: body.sessionId } : {}),
        ...(body.trickle ? { trickle: true } : {}),
        ...(body.mode && body.mode !== 'results' ? { mode: body.mode } : {}),
        ...(body.audio ? { audio: body.audio } : {}),
        ...(body.record ? { record: true } : {}),
        ...(body.capture ? { capture: body.capture } : {}),
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new SightlineError('unreachable', `server unreachable: ${err instanceof Error ? err.message : String(err)}`, 0);
  }
  const json = (await res.json().catch(() => null)) as OfferResponse | ErrorBody | null;
  if (!res.ok || !json || !('sdp' in json)) {
    const e = json && 'error' in json ? json.error : { code: 'http_error', message: `server answered ${res.status}` };
    throw new SightlineError(e.code, e.message, res.status);
  }
  return json;
}

/**
 * DELETE {url}/webrtc/sessions/:id, best effort with a bounded wait: the session's final counters, or undefined when
 * the server could not be reached or no longer knows the session.
 */
export async function deleteSession(url: string, apiKey: string, sessionId: string, timeoutMs = 3000): Promise<SessionSummary | undefined> {
  try {
    const res = await fetch(`${url}/webrtc/sessions/${encodeURIComponent(sessionId)}`, {
      method: 'DELETE',
      headers: { 'api-key': apiKey },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.ok ? ((await res.json()) as SessionSummary) : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves when ICE gathering completes, or after `timeoutMs` with what was gathered (non-trickle offers). */
export function waitForGathering(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = (): void => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/**
 * GET {url}/webrtc/ice-servers: STUN/TURN servers with fresh TURN credentials. A server without the route (or any
 * failure) means no ICE servers: direct connections only.
 */
export async function fetchIceServers(url: string, apiKey: string): Promise<RTCIceServer[]> {
  try {
    const res = await fetch(`${url}/webrtc/ice-servers`, { headers: { 'api-key': apiKey }, signal: AbortSignal.timeout(5000) });
    if (!res.ok) return [];
    const body = (await res.json()) as { iceServers?: RTCIceServer[] };
    return Array.isArray(body.iceServers) ? body.iceServers : [];
  } catch {
    return [];
  }
}

/** PATCH a trickle-ICE fragment; returns the server's fragment (its new candidates). */
export async function patchCandidates(sessionUrl: string, apiKey: string, fragment: string): Promise<string> {
  const res = await fetch(sessionUrl, {
    method: 'PATCH',
    headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'api-key': apiKey },
    body: fragment,
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new SightlineError('trickle_failed', `PATCH answered ${res.status}`, res.status);
  return res.text();
}
