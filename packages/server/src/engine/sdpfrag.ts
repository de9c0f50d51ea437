/** A trickle-ICE SDP fragment (RFC 8840), as WHIP clients PATCH it. */
export interface SdpFrag {
  ufrag: string | undefined;
  pwd: string | undefined;
  candidates: Array<{ mid: string | null; candidate: string }>;
  endOfCandidates: boolean;
}

/** Parses an `application/trickle-ice-sdpfrag` body. Pure; throws on lines that are not SDP. */
export function parseSdpFrag(text: string): SdpFrag {
  const out: SdpFrag = { ufrag: undefined, pwd: undefined, candidates: [], endOfCandidates: false };
  let mid: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (!/^[a-z]=/.test(line)) throw new Error(`not an SDP line: ${JSON.stringify(line.slice(0, 40))}`);
    if (line.startsWith('m=')) mid = null;
    else if (line.startsWith('a=mid:')) mid = line.slice(6);
    else if (line.startsWith('a=ice-ufrag:')) out.ufrag = line.slice(12);
    else if (line.startsWith('a=ice-pwd:')) out.pwd = line.slice(10);
    else if (line.startsWith('a=candidate:')) out.candidates.push({ mid, candidate: line.slice(2) });
    else if (line === 'a=end-of-candidates') out.endOfCandidates = true;
  }
  return out;
}

/** The first `a=ice-ufrag` of an SDP. */
export function iceUfragOf(sdp: string): string | undefined {
  return /^a=ice-ufrag:(.+)$/m.exec(sdp)?.[1]?.trim();
}
