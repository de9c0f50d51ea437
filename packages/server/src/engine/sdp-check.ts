/** Most media sections an offer may have: video, audio and a DataChannel, and one more. */
export const MAX_MEDIA_SECTIONS = 4;
/** Longest offer accepted, in characters (browsers' offers are 3–15 thousand). */
export const MAX_SDP_CHARS = 64 * 1024;
/**
 * Most ICE candidates one trickle PATCH (an RFC 8840 fragment) may carry: each goes to the engine's ICE agent, so an
 * unbounded fragment (a 64 KiB body holds over a thousand) would make it pair and check them all. A client's whole
 * gathering is usually well under 20 (libjuice, under NodeClient, caps it at 20); more are refused as a whole, before
 * any is applied.
 */
export const MAX_TRICKLE_CANDIDATES = 32;

/**
 * Cheap structural checks of an offer SDP before it reaches the engine, so garbage gets a precise 400 rather than
 * an engine-specific failure, and an offer cannot make the engine build hundreds of transports: at most
 * MAX_SDP_CHARS characters and MAX_MEDIA_SECTIONS media sections, bundled on one transport when there are several.
 * Returns an error message, or undefined when the SDP looks like an offer with media.
 */
export function checkOfferSdp(sdp: string): string | undefined {
  if (sdp.length > MAX_SDP_CHARS) return `sdp is ${sdp.length} characters long; at most ${MAX_SDP_CHARS} are accepted`;
  if (!sdp.startsWith('v=0')) return 'sdp must start with "v=0"';
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  const bad = lines.find((l) => !/^[a-z]=/.test(l));
  if (bad !== undefined) return `sdp line is not "<letter>=<value>": ${JSON.stringify(bad.slice(0, 40))}`;
  if (!lines.some((l) => l.startsWith('o='))) return 'sdp has no origin (o=) line';
  const media = lines.filter((l) => l.startsWith('m='));
  if (media.length === 0) return 'sdp has no media section (m= line): add a video track or a DataChannel';
  if (!lines.some((l) => l.startsWith('a=fingerprint:'))) return 'sdp has no DTLS fingerprint';
  if (!lines.some((l) => l.startsWith('a=ice-ufrag:'))) return 'sdp has no ICE credentials (a=ice-ufrag)';
  if (media.length > MAX_MEDIA_SECTIONS) {
    return `sdp has ${media.length} media sections; at most ${MAX_MEDIA_SECTIONS} are accepted (a video, an audio and a DataChannel section are 3)`;
  }
  for (const m of media) {
    // m=<media> <port> <proto> <fmt>…: RTP payload types are 0–127 (RFC 3550); a DataChannel's fmt is a name.
    const [, , proto = '', ...fmts] = m.slice(2).split(' ');
    if (proto.includes('RTP') && fmts.some((f) => !/^\d{1,3}$/.test(f) || Number(f) > 127))
      return `sdp media line has a payload type outside 0–127: ${JSON.stringify(m.slice(0, 60))}`;
  }
  const mids = lines.filter((l) => l.startsWith('a=mid:')).map((l) => l.slice('a=mid:'.length));
  // RFC 5888: an identification tag is a token, and unique in the session.
  const badMid = mids.find((m) => !/^[A-Za-z0-9!#$%&'*+.^_`{|}~-]{1,32}$/.test(m));
  if (badMid !== undefined) return `sdp a=mid must be a token of at most 32 characters: ${JSON.stringify(badMid.slice(0, 40))}`;
  if (new Set(mids).size !== mids.length) return 'sdp has two media sections with the same a=mid';
  if (media.length > 1) {
    const group = lines.find((l) => l.startsWith('a=group:BUNDLE'));
    if (group === undefined) return 'sdp has several media sections but no a=group:BUNDLE: bundle them on one transport';
    const tags = group.slice('a=group:BUNDLE'.length).trim().split(/\s+/);
    const bundled = new Set(tags);
    if (bundled.size !== tags.length) return 'sdp a=group:BUNDLE names a section twice';
    // Each section that is not rejected (port 0) must be in the bundle.
    for (const section of sdp.split(/\r?\nm=/).slice(1)) {
      if (/^\S+ 0 /.test(section)) continue;
      const mid = /^a=mid:(\S+)/m.exec(section)?.[1];
      if (mid === undefined || !bundled.has(mid))
        return `sdp media section ${mid ?? '(no a=mid)'} is not in a=group:BUNDLE: bundle every section on one transport`;
    }
  }
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
