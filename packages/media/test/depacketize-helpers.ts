/**
 * Shared by the depacketize-*.test.ts files: real encoder output from the system ffmpeg (a few frames of a test
 * pattern), decoding checks through ffmpeg, container readers, and RTP header stamping for test packetizers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AssembledFrame, DepacketizedFrame, Depacketizer, RtpPayload } from '../src/depacketize/index.js';
import { FrameAssembler } from '../src/depacketize/index.js';

let encoders: Set<string> | undefined;

/** Names of the encoders in this ffmpeg build (empty when there is no ffmpeg). */
export function ffmpegEncoders(): Set<string> {
  if (!encoders) {
    const run = spawnSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' });
    encoders = new Set(run.status === 0 ? [...run.stdout.matchAll(/^ [A-Z.]{6} (\S+)/gm)].map((m) => m[1]!) : []);
  }
  return encoders;
}

/** The first of `names` this ffmpeg can encode with, or undefined. */
export function firstEncoder(...names: string[]): string | undefined {
  return names.find((n) => ffmpegEncoders().has(n));
}

/** Encodes `frames` frames of ffmpeg's testsrc pattern with `codecArgs` into `format`; returns the file's bytes. */
export function encodeTestPattern(codecArgs: string[], format: string, frames = 10, size = '320x240'): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-depacketize-'));
  try {
    const out = join(dir, `out.${format}`);
    const input = ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=30`, '-frames:v', String(frames), '-pix_fmt', 'yuv420p'];
    execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...input, ...codecArgs, '-threads', '1', '-f', format, out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Decodes a stream given as `format` on stdin and returns one "size crc" string per decoded frame (ffmpeg's framecrc,
 * every frame kept: -fps_mode passthrough). Throws with ffmpeg's messages when it reports any error.
 */
export function decodeFrameCrcs(format: string, data: Uint8Array): string[] {
  const run = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-f', format, '-i', 'pipe:0', '-fps_mode', 'passthrough', '-f', 'framecrc', 'pipe:1'], {
    input: data,
    encoding: 'buffer',
    maxBuffer: 16 << 20,
  });
  const stderr = run.stderr.toString('utf8').trim();
  if (run.status !== 0 || stderr !== '') throw new Error(`ffmpeg decode of ${format} failed (${run.status}): ${stderr}`);
  return run.stdout
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(',').slice(4).join(',').trim());
}

/** IVF (the VPx test container): a 32-byte file header, then per frame a 12-byte header (size, pts) and the frame. */
export function readIvf(data: Uint8Array): { header: Uint8Array; frames: Uint8Array[] } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const headerLength = view.getUint16(6, true);
  const frames: Uint8Array[] = [];
  for (let offset = headerLength; offset + 12 <= data.length;) {
    const size = view.getUint32(offset, true);
    frames.push(data.subarray(offset + 12, offset + 12 + size));
    offset += 12 + size;
  }
  return { header: data.subarray(0, headerLength), frames };
}

export function writeIvf(header: Uint8Array, frames: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(header.length + frames.reduce((n, f) => n + 12 + f.length, 0));
  const view = new DataView(out.buffer);
  out.set(header, 0);
  view.setUint32(24, frames.length, true);
  let offset = header.length;
  frames.forEach((frame, i) => {
    view.setUint32(offset, frame.length, true);
    view.setUint32(offset + 4, i, true);
    out.set(frame, offset + 12);
    offset += 12 + frame.length;
  });
  return out;
}

/** NAL units of an Annex B stream, without start codes (3- or 4-byte) or trailing zero bytes. */
export function splitAnnexB(data: Uint8Array): Uint8Array[] {
  const starts: { code: number; nal: number }[] = [];
  for (let i = 0; i + 2 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      starts.push({ code: i, nal: i + 3 });
      i += 2;
    }
  }
  return starts.map(({ nal }, k) => {
    let end = k + 1 < starts.length ? starts[k + 1]!.code : data.length;
    while (end > nal && data[end - 1] === 0) end--;
    return data.subarray(nal, end);
  });
}

/** Annex B with a 4-byte start code before every NAL unit: the form the depacketizers write. */
export function joinAnnexB(nalUnits: readonly Uint8Array[]): Uint8Array {
  return concat(nalUnits.flatMap((nal) => [Uint8Array.of(0, 0, 0, 1), nal]));
}

export function concat(pieces: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

export interface RtpStampOptions {
  /** Chosen near 65535 by the tests, so that sequence numbers wrap inside the stream. */
  firstSequenceNumber: number;
  /** Chosen near 2^32 so that timestamps wrap too. */
  firstTimestamp: number;
  /** 3000 for 30 fps at 90 kHz. */
  timestampStep: number;
}

/** RTP header fields for frames already split into payloads: one timestamp per frame, marker on its last packet. */
export function stampRtp(payloadsPerFrame: readonly (readonly Uint8Array[])[], options: RtpStampOptions): RtpPayload[] {
  const packets: RtpPayload[] = [];
  let sequenceNumber = options.firstSequenceNumber;
  payloadsPerFrame.forEach((payloads, frame) => {
    const timestamp = (options.firstTimestamp + frame * options.timestampStep) >>> 0;
    payloads.forEach((payload, i) => {
      packets.push({ payload, marker: i === payloads.length - 1, timestamp, sequenceNumber });
      sequenceNumber = (sequenceNumber + 1) & 0xffff;
    });
  });
  return packets;
}

export const WRAPPING: RtpStampOptions = { firstSequenceNumber: 65_530, firstTimestamp: 2 ** 32 - 7_000, timestampStep: 3000 };

/** Runs packets through a FrameAssembler; returns every frame (flushed at the end) and the counters. */
export function assemble<F extends DepacketizedFrame>(depacketizer: Depacketizer<F>, packets: readonly RtpPayload[]) {
  const assembler = new FrameAssembler(depacketizer);
  const frames: AssembledFrame<F>[] = [];
  for (const packet of packets) frames.push(...assembler.push(packet));
  const last = assembler.flush();
  if (last) frames.push(last);
  return { frames, counters: assembler.counters };
}

/** Splits `data` into chunks of at most `size` bytes. */
export function chunks(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < data.length; offset += size) out.push(data.subarray(offset, offset + size));
  return out;
}
