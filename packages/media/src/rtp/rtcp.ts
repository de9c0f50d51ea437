/**
 * RTCP packets the engine builds and reads itself, since libdatachannel's RtcpReceivingSession must stay off for
 * NACKs sent from JS to go out (see nack-tracker.ts): Chromium needs receiver reports and REMB to raise its bitrate
 * (about 260 kbps without any feedback), PLI to send a keyframe and NACK to retransmit; on the send path the browser's
 * NACK, PLI and FIR must be read. Builders throw on values that do not fit (programming errors); parsers never throw.
 */
import { seqDelta } from './sequence-number.js';

/** One reception report block (RFC 3550 §6.4.1), as in RR and SR. */
export interface ReportBlock {
  /** The SSRC this block reports on. */
  ssrc: number;
  /** Fraction of packets lost since the previous report, in 1/256 (0..255). */
  fractionLost: number;
  /** Packets lost since reception began; signed 24-bit (duplicates can make it negative). */
  cumulativeLost: number;
  /** Highest sequence number received, with the wrap count in the upper 16 bits. */
  extendedHighestSeq: number;
  /** Interarrival jitter, in RTP timestamp units. */
  jitter: number;
  /** The middle 32 bits of the NTP timestamp of the last SR received from that source (0 if none). */
  lastSr: number;
  /** Time since that SR was received, in 1/65536 s (0 if none). */
  delaySinceLastSr: number;
}

export interface SenderReport {
  type: 'sr';
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
}

export interface ReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: ReportBlock[];
}

/** Generic NACK (RFC 4585 §6.2.1), unpacked into sequence numbers. */
export interface Nack {
  type: 'nack';
  senderSsrc: number;
  mediaSsrc: number;
  seqs: number[];
}

/** Picture Loss Indication (RFC 4585 §6.3.1). */
export interface Pli {
  type: 'pli';
  senderSsrc: number;
  mediaSsrc: number;
}

/** Full Intra Request (RFC 5104 §4.3.1): each entry names the SSRC that should send a keyframe. */
export interface Fir {
  type: 'fir';
  senderSsrc: number;
  entries: { ssrc: number; seqNr: number }[];
}

/** Receiver Estimated Maximum Bitrate (draft-alvestrand-rmcat-remb-03 §2.2). */
export interface Remb {
  type: 'remb';
  senderSsrc: number;
  bitrateBps: number;
  ssrcs: number[];
}

export interface Bye {
  type: 'bye';
  ssrcs: number[];
}

/** A packet type this module does not read (SDES, APP, transport-cc...): body is what follows the 4-byte header. */
export interface UnknownRtcp {
  type: 'unknown';
  packetType: number;
  /** The 5-bit count/format field. */
  fmt: number;
  body: Uint8Array;
}

/** A packet of a type read here whose body is too short or inconsistent; the rest of the compound is still read. */
export interface MalformedRtcp {
  type: 'malformed';
  packetType: number;
  fmt: number;
}

export type RtcpPacket = SenderReport | ReceiverReport | Nack | Pli | Fir | Remb | Bye | UnknownRtcp | MalformedRtcp;

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
/** Transport-layer feedback (RFC 4585): FMT 1 is generic NACK. */
export const RTCP_RTPFB = 205;
/** Payload-specific feedback (RFC 4585): FMT 1 PLI, 4 FIR (RFC 5104), 15 application layer (REMB). */
export const RTCP_PSFB = 206;

const FMT_NACK = 1;
const FMT_PLI = 1;
const FMT_FIR = 4;
const FMT_AFB = 15;
const REPORT_BLOCK_SIZE = 24;
const MAX_COUNT = 31;
const REMB_ID = 0x52454d42; // 'REMB'

/** LSR: the middle 32 bits of a 64-bit NTP timestamp (RFC 3550 §6.4.1). */
export function ntpMiddle32(ntpSeconds: number, ntpFraction: number): number {
  return (((ntpSeconds & 0xffff) << 16) | (ntpFraction >>> 16)) >>> 0;
}

// --- Builders ---------------------------------------------------------------------------------------------------------

export function buildReceiverReport(rr: { ssrc: number; reports: readonly ReportBlock[] }): Uint8Array {
  checkCount(rr.reports.length, 'report blocks');
  const out = new Uint8Array(8 + rr.reports.length * REPORT_BLOCK_SIZE);
  const view = header(out, rr.reports.length, RTCP_RR);
  view.setUint32(4, rr.ssrc >>> 0);
  rr.reports.forEach((b, i) => writeReportBlock(view, 8 + i * REPORT_BLOCK_SIZE, b));
  return out;
}

export function buildSenderReport(sr: Omit<SenderReport, 'type'>): Uint8Array {
  checkCount(sr.reports.length, 'report blocks');
  const out = new Uint8Array(28 + sr.reports.length * REPORT_BLOCK_SIZE);
  const view = header(out, sr.reports.length, RTCP_SR);
  view.setUint32(4, sr.ssrc >>> 0);
  view.setUint32(8, sr.ntpSeconds >>> 0);
  view.setUint32(12, sr.ntpFraction >>> 0);
  view.setUint32(16, sr.rtpTimestamp >>> 0);
  view.setUint32(20, sr.packetCount >>> 0);
  view.setUint32(24, sr.octetCount >>> 0);
  sr.reports.forEach((b, i) => writeReportBlock(view, 28 + i * REPORT_BLOCK_SIZE, b));
  return out;
}

/** One generic NACK packet for these sequence numbers (any order, duplicates ignored; see packNack). */
export function buildNack(nack: { senderSsrc: number; mediaSsrc: number; seqs: readonly number[] }): Uint8Array {
  const items = packNack(nack.seqs);
  if (items.length === 0) throw new RangeError('a NACK needs at least one sequence number');
  const out = new Uint8Array(12 + items.length * 4);
  const view = feedbackHeader(out, FMT_NACK, RTCP_RTPFB, nack.senderSsrc, nack.mediaSsrc);
  items.forEach(({ pid, blp }, i) => {
    view.setUint16(12 + i * 4, pid);
    view.setUint16(14 + i * 4, blp);
  });
  return out;
}

export function buildPli(pli: { senderSsrc: number; mediaSsrc: number }): Uint8Array {
  const out = new Uint8Array(12);
  feedbackHeader(out, FMT_PLI, RTCP_PSFB, pli.senderSsrc, pli.mediaSsrc);
  return out;
}

/** FIR: the media SSRC field is unused (0); each entry names the target SSRC and a request sequence number. */
export function buildFir(fir: { senderSsrc: number; entries: readonly { ssrc: number; seqNr: number }[] }): Uint8Array {
  if (fir.entries.length === 0) throw new RangeError('a FIR needs at least one entry');
  const out = new Uint8Array(12 + fir.entries.length * 8);
  const view = feedbackHeader(out, FMT_FIR, RTCP_PSFB, fir.senderSsrc, 0);
  fir.entries.forEach((e, i) => {
    view.setUint32(12 + i * 8, e.ssrc >>> 0);
    view.setUint8(16 + i * 8, e.seqNr & 0xff);
  });
  return out;
}

/** REMB: the media SSRC field is 0; the estimate applies to the SSRCs listed. */
export function buildRemb(remb: { senderSsrc: number; bitrateBps: number; ssrcs: readonly number[] }): Uint8Array {
  if (remb.ssrcs.length > 255) throw new RangeError('a REMB lists at most 255 SSRCs');
  const { exponent, mantissa } = encodeRembBitrate(remb.bitrateBps);
  const out = new Uint8Array(20 + remb.ssrcs.length * 4);
  const view = feedbackHeader(out, FMT_AFB, RTCP_PSFB, remb.senderSsrc, 0);
  view.setUint32(12, REMB_ID);
  view.setUint8(16, remb.ssrcs.length);
  view.setUint8(17, (exponent << 2) | (mantissa >>> 16));
  view.setUint16(18, mantissa & 0xffff);
  remb.ssrcs.forEach((ssrc, i) => view.setUint32(20 + i * 4, ssrc >>> 0));
  return out;
}

/**
 * A compound packet is its packets back to back (RFC 3550 §6.1). It should start with an SR or RR, unless reduced-size
 * RTCP (RFC 5506, `a=rtcp-rsize`) was negotiated; that is the caller's choice.
 */
export function concatRtcp(packets: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(packets.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of packets) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

// --- Field codecs -----------------------------------------------------------------------------------------------------

/**
 * REMB bitrate as mantissa × 2^exponent, an 18-bit mantissa and a 6-bit exponent: the smallest exponent whose
 * mantissa fits, rounding down (a cap that rounds down never asks for more than meant).
 */
export function encodeRembBitrate(bitrateBps: number): { exponent: number; mantissa: number } {
  if (!(bitrateBps >= 0) || !Number.isFinite(bitrateBps)) throw new RangeError('REMB bitrate must be a finite number ≥ 0');
  let exponent = 0;
  while (bitrateBps >= 0x40000 * 2 ** exponent) exponent++;
  if (exponent > 63) throw new RangeError('REMB bitrate too large');
  return { exponent, mantissa: Math.floor(bitrateBps / 2 ** exponent) };
}

export function decodeRembBitrate(exponent: number, mantissa: number): number {
  return mantissa * 2 ** exponent;
}

/**
 * Packs sequence numbers into NACK items: PID, the first lost packet, and BLP, a bitmask whose bit i (least significant
 * first) marks PID + i + 1 as lost too. Numbers are ordered as they unwrap around the first one given, so a list that
 * crosses 65535→0 packs correctly as long as it spans less than half the sequence space.
 */
export function packNack(seqs: readonly number[]): { pid: number; blp: number }[] {
  if (seqs.length === 0) return [];
  const first = (seqs[0] as number) & 0xffff;
  const unwrapped = [...new Set(seqs.map((s) => first + seqDelta(s, first)))].sort((a, b) => a - b);
  const items: { ext: number; pid: number; blp: number }[] = [];
  let current: { ext: number; pid: number; blp: number } | undefined;
  for (const s of unwrapped) {
    const offset = current === undefined ? -1 : s - current.ext - 1;
    if (current !== undefined && offset >= 0 && offset < 16) {
      current.blp |= 1 << offset;
    } else {
      current = { ext: s, pid: s & 0xffff, blp: 0 };
      items.push(current);
    }
  }
  return items.map(({ pid, blp }) => ({ pid, blp }));
}

/** The sequence numbers a list of NACK items names, in item order. */
export function unpackNack(items: readonly { pid: number; blp: number }[]): number[] {
  const seqs: number[] = [];
  for (const { pid, blp } of items) {
    seqs.push(pid);
    for (let i = 0; i < 16; i++) if ((blp >> i) & 1) seqs.push((pid + i + 1) & 0xffff);
  }
  return seqs;
}

// --- Parser -----------------------------------------------------------------------------------------------------------

/**
 * Splits a compound RTCP packet and reads each part. Undefined when the packets do not chain exactly to the end of
 * the buffer (wrong version, length past the end, bad padding): then no part can be trusted.
 */
export function parseRtcp(buf: Uint8Array): RtcpPacket[] | undefined {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const packets: RtcpPacket[] = [];
  let offset = 0;
  if (buf.length < 4) return undefined;
  while (offset < buf.length) {
    if (offset + 4 > buf.length) return undefined;
    const b0 = view.getUint8(offset);
    if (b0 >> 6 !== 2) return undefined;
    const fmt = b0 & 0x1f;
    const packetType = view.getUint8(offset + 1);
    const size = (view.getUint16(offset + 2) + 1) * 4;
    if (offset + size > buf.length) return undefined;
    let bodyEnd = offset + size;
    if (b0 & 0x20) {
      const padding = view.getUint8(bodyEnd - 1);
      if (padding === 0 || padding > size - 4) return undefined;
      bodyEnd -= padding;
    }
    const body = new DataView(buf.buffer, buf.byteOffset + offset + 4, bodyEnd - offset - 4);
    packets.push(parseOne(packetType, fmt, body) ?? { type: 'unknown', packetType, fmt, body: buf.subarray(offset + 4, bodyEnd) });
    offset += size;
  }
  return packets;
}

/** One packet's body (after the common header); undefined for a type not read here. */
function parseOne(packetType: number, fmt: number, body: DataView): RtcpPacket | undefined {
  const malformed: MalformedRtcp = { type: 'malformed', packetType, fmt };
  switch (packetType) {
    case RTCP_SR: {
      if (body.byteLength < 24 + fmt * REPORT_BLOCK_SIZE) return malformed;
      return {
        type: 'sr',
        ssrc: body.getUint32(0),
        ntpSeconds: body.getUint32(4),
        ntpFraction: body.getUint32(8),
        rtpTimestamp: body.getUint32(12),
        packetCount: body.getUint32(16),
        octetCount: body.getUint32(20),
        reports: readReportBlocks(body, 24, fmt),
      };
    }
    case RTCP_RR:
      if (body.byteLength < 4 + fmt * REPORT_BLOCK_SIZE) return malformed;
      return { type: 'rr', ssrc: body.getUint32(0), reports: readReportBlocks(body, 4, fmt) };
    case RTCP_BYE: {
      if (body.byteLength < fmt * 4) return malformed;
      const ssrcs: number[] = [];
      for (let i = 0; i < fmt; i++) ssrcs.push(body.getUint32(i * 4));
      return { type: 'bye', ssrcs };
    }
    case RTCP_RTPFB: {
      if (fmt !== FMT_NACK) return undefined;
      // At least one item (RFC 4585 §6.2.1), whole items only.
      if (body.byteLength < 12 || body.byteLength % 4 !== 0) return malformed;
      const items: { pid: number; blp: number }[] = [];
      for (let i = 8; i < body.byteLength; i += 4) items.push({ pid: body.getUint16(i), blp: body.getUint16(i + 2) });
      return { type: 'nack', senderSsrc: body.getUint32(0), mediaSsrc: body.getUint32(4), seqs: unpackNack(items) };
    }
    case RTCP_PSFB:
      return parsePsfb(fmt, body, malformed);
    default:
      return undefined;
  }
}

function parsePsfb(fmt: number, body: DataView, malformed: MalformedRtcp): RtcpPacket | undefined {
  if (body.byteLength < 8) return fmt === FMT_PLI || fmt === FMT_FIR || fmt === FMT_AFB ? malformed : undefined;
  const senderSsrc = body.getUint32(0);
  switch (fmt) {
    case FMT_PLI:
      return { type: 'pli', senderSsrc, mediaSsrc: body.getUint32(4) };
    case FMT_FIR: {
      if (body.byteLength < 16 || (body.byteLength - 8) % 8 !== 0) return malformed;
      const entries: { ssrc: number; seqNr: number }[] = [];
      for (let i = 8; i < body.byteLength; i += 8) entries.push({ ssrc: body.getUint32(i), seqNr: body.getUint8(i + 4) });
      return { type: 'fir', senderSsrc, entries };
    }
    case FMT_AFB: {
      // Application-layer feedback is REMB only when it says so; anything else is someone else's format.
      if (body.byteLength < 12 || body.getUint32(8) !== REMB_ID) return undefined;
      if (body.byteLength < 16) return malformed;
      const count = body.getUint8(12);
      if (body.byteLength < 16 + count * 4) return malformed;
      const b = body.getUint8(13);
      const bitrateBps = decodeRembBitrate(b >> 2, ((b & 0x03) << 16) | body.getUint16(14));
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(body.getUint32(16 + i * 4));
      return { type: 'remb', senderSsrc, bitrateBps, ssrcs };
    }
    default:
      return undefined;
  }
}

// --- Helpers ----------------------------------------------------------------------------------------------------------

function checkCount(n: number, what: string): void {
  if (n > MAX_COUNT) throw new RangeError(`an RTCP packet holds at most ${MAX_COUNT} ${what}`);
}

/** Writes the common header (V=2, no padding) for a packet filling `out`; returns a view on `out`. */
function header(out: Uint8Array, countOrFmt: number, packetType: number): DataView {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint8(0, 0x80 | countOrFmt);
  view.setUint8(1, packetType);
  view.setUint16(2, out.length / 4 - 1);
  return view;
}

/** Common header plus the two SSRCs every RFC 4585 feedback message starts with. */
function feedbackHeader(out: Uint8Array, fmt: number, packetType: number, senderSsrc: number, mediaSsrc: number): DataView {
  const view = header(out, fmt, packetType);
  view.setUint32(4, senderSsrc >>> 0);
  view.setUint32(8, mediaSsrc >>> 0);
  return view;
}

function writeReportBlock(view: DataView, offset: number, b: ReportBlock): void {
  const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(b.cumulativeLost)));
  view.setUint32(offset, b.ssrc >>> 0);
  // Fraction lost (8 bits) then cumulative lost (24-bit two's complement) share one word.
  view.setUint32(offset + 4, ((Math.max(0, Math.min(255, b.fractionLost)) << 24) | (lost & 0xffffff)) >>> 0);
  view.setUint32(offset + 8, b.extendedHighestSeq >>> 0);
  view.setUint32(offset + 12, b.jitter >>> 0);
  view.setUint32(offset + 16, b.lastSr >>> 0);
  view.setUint32(offset + 20, b.delaySinceLastSr >>> 0);
}

function readReportBlocks(body: DataView, offset: number, count: number): ReportBlock[] {
  const blocks: ReportBlock[] = [];
  for (let i = 0; i < count; i++) {
    const o = offset + i * REPORT_BLOCK_SIZE;
    const lostWord = body.getUint32(o + 4);
    blocks.push({
      ssrc: body.getUint32(o),
      fractionLost: lostWord >>> 24,
      cumulativeLost: ((lostWord & 0xffffff) << 8) >> 8, // sign-extend 24 bits
      extendedHighestSeq: body.getUint32(o + 8),
      jitter: body.getUint32(o + 12),
      lastSr: body.getUint32(o + 16),
      delaySinceLastSr: body.getUint32(o + 20),
    });
  }
  return blocks;
}
