/**
 * What an offer's media sections say, read without any engine: per m-line its kind, mid, direction and payload
 * types (rtpmap, fmtp, rtcp-fb, RTX). Pure; the answer is built from what this returns.
 */

export type MediaKind = 'video' | 'audio' | 'application' | 'other';
export type OfferDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface PayloadFormat {
  pt: number;
  /** Encoding name as written (`H264`, `VP8`, `opus`, `rtx`, …). */
  name: string;
  clockRate: number;
  channels?: number;
  /** The `a=fmtp:` parameters as written, or ''. */
  fmtp: string;
  /** `a=rtcp-fb:` values (`nack`, `nack pli`, `goog-remb`, `transport-cc`, `ccm fir`). */
  feedback: string[];
}

export interface OfferMediaSection {
  index: number;
  kind: MediaKind;
  mid: string;
  /** The offerer's direction: `sendonly` means it only sends. No attribute means sendrecv. */
  direction: OfferDirection;
  /** A rejected section (port 0). */
  rejected: boolean;
  formats: PayloadFormat[];
  /** RTX payload type → the payload type it repairs (`a=fmtp:<rtx> apt=<pt>`). */
  rtx: Map<number, number>;
}

const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** The media sections of an SDP offer, in order. */
export function parseOfferMedia(sdp: string): OfferMediaSection[] {
  const sections = sdp.split(/\r?\n(?=m=)/).slice(1);
  return sections.map((text, index) => {
    const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
    const m = /^m=(\S+) (\d+)\S* \S+(?: (.*))?$/.exec(lines[0] ?? '');
    const kindWord = m?.[1] ?? '';
    const kind: MediaKind = kindWord === 'video' || kindWord === 'audio' || kindWord === 'application' ? kindWord : 'other';
    const pts = (m?.[3] ?? '').split(' ').filter((p) => /^\d+$/.test(p));
    const formats = new Map<number, PayloadFormat>();
    for (const p of pts) formats.set(Number(p), { pt: Number(p), name: '', clockRate: 0, fmtp: '', feedback: [] });
    let mid = String(index);
    let direction: OfferDirection = 'sendrecv';
    for (const line of lines.slice(1)) {
      const attr = /^a=([^:]+)(?::(.*))?$/.exec(line);
      if (!attr) continue;
      const [, key, value = ''] = attr;
      if (key === 'mid') mid = value.trim();
      else if (DIRECTIONS.has(key!)) direction = key as OfferDirection;
      else if (key === 'rtpmap') {
        const r = /^(\d+) ([^/]+)\/(\d+)(?:\/(\d+))?/.exec(value);
        const f = r ? formats.get(Number(r[1])) : undefined;
        if (f) {
          f.name = r![2]!;
          f.clockRate = Number(r![3]);
          if (r![4]) f.channels = Number(r![4]);
        }
      } else if (key === 'fmtp') {
        const r = /^(\d+) (.*)$/.exec(value);
        const f = r ? formats.get(Number(r[1])) : undefined;
        if (f) f.fmtp = r![2]!.trim();
      } else if (key === 'rtcp-fb') {
        const r = /^(\d+|\*) (.*)$/.exec(value);
        if (!r) continue;
        for (const f of r[1] === '*' ? formats.values() : [formats.get(Number(r[1]))].filter((x) => x !== undefined)) f.feedback.push(r[2]!.trim());
      }
    }
    const rtx = new Map<number, number>();
    for (const f of formats.values()) {
      const apt = /(?:^|;)\s*apt=(\d+)/.exec(f.fmtp);
      if (f.name.toLowerCase() === 'rtx' && apt) rtx.set(f.pt, Number(apt[1]));
    }
    return { index, kind, mid, direction, rejected: m?.[2] === '0', formats: [...formats.values()], rtx };
  });
}

/** The fmtp parameters as a map (keys lower-case). */
export function fmtpParams(fmtp: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of fmtp.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).trim());
  }
  return out;
}
