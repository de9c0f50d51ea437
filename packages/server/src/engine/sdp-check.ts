/**
 * Cheap structural checks of an offer SDP before it reaches the engine, so garbage gets a precise 400 rather than
 * an engine-specific failure. Returns an error message, or undefined when the SDP looks like an offer with media.
 */
export function checkOfferSdp(sdp: string): string | undefined {
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== 'v=0') return 'sdp must start with "v=0"';
  const bad = lines.find((l) => !/^[a-z]=/.test(l));
  if (bad !== undefined) return `sdp line is not "<letter>=<value>": ${JSON.stringify(bad.slice(0, 40))}`;
  if (!lines.some((l) => l.startsWith('o='))) return 'sdp has no origin (o=) line';
  const media = lines.filter((l) => l.startsWith('m='));
  if (media.length === 0) return 'sdp has no media section (m= line): add a video track or a DataChannel';
  if (!lines.some((l) => l.startsWith('a=fingerprint:'))) return 'sdp has no DTLS fingerprint';
  if (!lines.some((l) => l.startsWith('a=ice-ufrag:'))) return 'sdp has no ICE credentials (a=ice-ufrag)';
  return undefined;
}

/** Whether an offer has a video section the answerer can send on (sendrecv or recvonly from the offerer's side). */
export function offerCanReceiveVideo(sdp: string): boolean {
  return sdp
    .split(/\r?\nm=/)
    .slice(1)
    .some((section) => section.startsWith('video') && /^a=(sendrecv|recvonly)\s*$/m.test(section));
}

/** Whether the offer sends audio (an audio section that is sendrecv or sendonly; no direction means sendrecv). */
export function offerSendsAudio(sdp: string): boolean {
  return sdp
    .split(/\r?\nm=/)
    .slice(1)
    .some((section) => section.startsWith('audio') && !/^a=(recvonly|inactive)\s*$/m.test(section) && !/^audio 0 /.test(section));
}
