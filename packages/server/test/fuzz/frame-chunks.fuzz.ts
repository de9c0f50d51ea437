/**
 * Target `frame-chunks` (pure, no server): JPEG/WebP frames sent as binary chunk messages (protocol/frame-chunks.ts:
 * a 20-byte header — magic, version, frame id, chunk index and count, timestamp — then payload).
 *
 * - `parseFrameChunk` never throws on any bytes (valid chunks with mutated headers, short and random messages, views
 *   into a larger buffer, ArrayBuffers): it returns a chunk whose fields are in range, or `{error}`. Valid chunks
 *   round-trip with `encodeFrameChunks`.
 * - `FrameAssembler` (pipeline/frame-assembler.ts), fed a mix of valid chunks (shuffled, duplicated) and mutated
 *   ones, never throws; every frame it completes is at most maxFrameBytes, and a frame whose chunks all arrive
 *   unharmed comes out byte for byte.
 * - `EncodedFrameInput` (session/encoded-frame-input.ts), fed whole frames whose payloads are valid JPEG/WebP images
 *   (odd sizes too), mutated images or junk: every frame ends exactly once, in `onFrame` (a well-formed I420 picture)
 *   or in `onRejected` with a documented code; valid images decode to their own size.
 */
import fc from 'fast-check';
import sharp from 'sharp';
import { encodeFrameChunks, FRAME_CHUNK_HEADER_BYTES, parseFrameChunk } from '@sightline/protocol';
import { FrameAssembler } from '../../src/pipeline/frame-assembler.js';
import { EncodedFrameInput } from '../../src/session/encoded-frame-input.js';
import { expect, fuzzTarget } from './fuzz-target.js';
import { concat, mutatedBytes, shuffleBy } from './mutators.js';

const MAX_FRAME_BYTES = 4096;
const MAX_PIXELS = 64 * 64;

/** Small valid images: JPEG and WebP, odd and even sizes (each decodes to width × height). */
export async function imageSamples(): Promise<Array<{ bytes: Uint8Array; width: number; height: number }>> {
  const out: Array<{ bytes: Uint8Array; width: number; height: number }> = [];
  for (const [width, height] of [
    [1, 1],
    [3, 5],
    [16, 16],
    [33, 17],
  ] as const) {
    const img = sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 90 } } });
    out.push({ bytes: new Uint8Array(await img.clone().jpeg({ quality: 70 }).toBuffer()), width, height });
    out.push({ bytes: new Uint8Array(await img.clone().webp({ quality: 70 }).toBuffer()), width, height });
  }
  return out;
}

/** A chunk message as it may arrive: one of several framings of the same bytes. */
const asMessage = (bytes: Uint8Array, how: number): ArrayBuffer | Uint8Array => {
  if (how === 0) return bytes;
  if (how === 1) return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  // A view at an odd offset into a larger buffer.
  return concat(new Uint8Array(3), bytes, new Uint8Array(5)).subarray(3, 3 + bytes.length);
};

export const fuzzFrameChunks = fuzzTarget('frame-chunks', { server: false }, async ({ tally }) => {
  const images = await imageSamples();
  const validChunks = images.flatMap((img, i) => encodeFrameChunks(img.bytes, i, 1000 + i, 64 + i * 50));

  /** A frame's chunks, maybe harmed: mutated, dropped, duplicated, shuffled. */
  const chunkStream = fc
    .record({
      frames: fc.array(
        fc.record({
          image: fc.nat(images.length - 1),
          id: fc.nat(20),
          chunkBytes: fc.integer({ min: 1, max: 900 }),
          ts: fc.double({ noNaN: true, noDefaultInfinity: true }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      order: fc.array(fc.nat(), { maxLength: 64 }),
      extra: fc.array(fc.oneof(mutatedBytes(validChunks), fc.uint8Array({ maxLength: 40 })), { maxLength: 4 }),
      harm: fc.array(fc.record({ at: fc.nat(), drop: fc.boolean() }), { maxLength: 2 }),
      how: fc.nat(2),
    })
    .map(({ frames, order, extra, harm, how }) => {
      const chunks = frames.flatMap((f) => encodeFrameChunks(images[f.image]!.bytes, f.id, f.ts, f.chunkBytes).map((c) => ({ f, c })));
      for (const h of harm) {
        if (chunks.length === 0) break;
        const i = h.at % chunks.length;
        if (h.drop) chunks.splice(i, 1);
        else chunks.splice(i, 0, chunks[i]!);
      }
      return { frames, messages: [...shuffleBy(chunks, order).map((x) => x.c), ...extra], how, harmed: harm.length > 0 || extra.length > 0 };
    });

  /** A message for `parseFrameChunk`: a mutated valid chunk, a random one, or a header with chosen fields. */
  const oneChunk = fc.oneof(
    mutatedBytes(validChunks, 3),
    fc.uint8Array({ maxLength: 48 }),
    fc
      .record({ id: fc.nat(0xffffffff), index: fc.nat(0xffff), count: fc.nat(0xffff), ts: fc.double(), payload: fc.uint8Array({ maxLength: 16 }) })
      .map(({ id, index, count, ts, payload }) => {
        const msg = new Uint8Array(FRAME_CHUNK_HEADER_BYTES + payload.length);
        const v = new DataView(msg.buffer);
        v.setUint16(0, 0x534c);
        v.setUint8(2, 1);
        v.setUint32(4, id);
        v.setUint16(8, index);
        v.setUint16(10, count);
        v.setFloat64(12, ts);
        msg.set(payload, FRAME_CHUNK_HEADER_BYTES);
        return msg;
      }),
  );

  /** Whole frames for the decoder: valid images, mutated images, junk. */
  const decodeFrames = fc.array(
    fc.oneof(
      fc.nat(images.length - 1).map((i) => ({ valid: i as number | undefined, bytes: images[i]!.bytes })),
      mutatedBytes(
        images.map((i) => i.bytes),
        3,
      ).map((bytes) => ({ valid: undefined, bytes })),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ valid: undefined, bytes: concat(new Uint8Array([0xff, 0xd8, 0xff]), bytes) })),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ valid: undefined, bytes })),
    ),
    { minLength: 1, maxLength: 4 },
  );

  const property = fc.asyncProperty(oneChunk, fc.nat(2), chunkStream, decodeFrames, async (chunk, how, stream, frames) => {
    // 1. One chunk: never throws; fields in range; valid encodes round-trip.
    const parsed = parseFrameChunk(asMessage(chunk, how));
    if ('error' in parsed) {
      expect(typeof parsed.error === 'string', 'parseFrameChunk returned a malformed error', parsed);
      tally.reject();
    } else {
      tally.accept();
      expect(parsed.count >= 1 && parsed.index < parsed.count && Number.isFinite(parsed.timestampMs), 'parseFrameChunk returned fields out of range', parsed);
      expect(parsed.payload.length === chunk.length - FRAME_CHUNK_HEADER_BYTES, 'the payload is not the rest of the message');
      if (parsed.count === 1) {
        const again = encodeFrameChunks(parsed.payload, parsed.frameId, parsed.timestampMs, Math.max(1, parsed.payload.length));
        // The flags byte is reserved: read past, written as 0.
        const sent = Buffer.from(chunk);
        sent[3] = 0;
        expect(again.length === 1 && Buffer.from(again[0]!).equals(sent), 'a valid chunk did not round-trip');
      }
    }

    // 2. A stream of chunks into the assembler.
    const assembler = new FrameAssembler({ maxFrameBytes: MAX_FRAME_BYTES });
    const done = new Map<number, Uint8Array>();
    for (const m of stream.messages) {
      const { frame, rejected } = assembler.add(asMessage(m, stream.how));
      for (const r of rejected) expect(r.code === 'invalid_frame' || r.code === 'frame_too_large', 'a rejection has an undocumented code', r);
      if (frame) {
        expect(frame.bytes.length <= MAX_FRAME_BYTES, 'an assembled frame is over maxFrameBytes', frame.bytes.length);
        done.set(frame.frameId, frame.bytes);
      }
    }
    // Frames with distinct ids whose chunks all arrived unharmed come out as they went in.
    const ids = stream.frames.map((f) => f.id);
    if (!stream.harmed && new Set(ids).size === ids.length && ids.length <= 4) {
      for (const f of stream.frames) {
        const want = images[f.image]!.bytes;
        if (want.length > MAX_FRAME_BYTES) continue;
        expect(done.has(f.id) && Buffer.from(done.get(f.id)!).equals(Buffer.from(want)), `frame ${f.id} did not come out whole`);
      }
    }

    // 3. Whole frames through the decoder: each ends exactly once, valid images decode to their size.
    const ends = new Map<number, string[]>();
    // Callbacks run inside the decoder's own try: problems are collected, and asserted once it is done.
    const problems: string[] = [];
    const end = (id: number, how: string): void => void ends.set(id, [...(ends.get(id) ?? []), how]);
    let settled: () => void = () => undefined;
    const all = new Promise<void>((r) => (settled = r));
    const check = (): void => {
      if (ends.size === frames.length) settled();
    };
    const input = new EncodedFrameInput({
      maxFrameBytes: MAX_FRAME_BYTES,
      maxPixels: MAX_PIXELS,
      onFrame: (frame, id) => {
        const want = frames[id]!.valid;
        const cw = (frame.width + 1) >> 1;
        if (frame.data.length !== frame.width * frame.height + 2 * cw * ((frame.height + 1) >> 1)) problems.push(`frame ${id} is not I420`);
        if (want !== undefined && (frame.width !== images[want]!.width || frame.height !== images[want]!.height)) {
          problems.push(`valid image ${id} decoded to ${frame.width}x${frame.height}`);
        }
        end(id, 'frame');
        check();
      },
      onRejected: (id, code) => {
        if (!['invalid_frame', 'frame_too_large', 'unsupported_format', 'dropped'].includes(code)) problems.push(`undocumented rejection code ${code}`);
        if (id === undefined) return;
        end(id, code);
        check();
      },
    });
    try {
      // Sent one at a time (the decoder keeps at most 4 waiting; more is the client's fault and is `dropped`).
      frames.forEach((f, i) => {
        for (const c of encodeFrameChunks(f.bytes, i, i)) input.push(c);
      });
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
      expect((await Promise.race([all, timeout])) !== 'timeout', 'not every frame ended within 5 s', [...ends]);
    } finally {
      input.close();
    }
    expect(problems.length === 0, problems.join('; '));
    for (const [id, how] of ends) {
      expect(how.length === 1, `frame ${id} ended ${how.length} times`, how);
      if (frames[id]!.valid !== undefined && frames[id]!.bytes.length <= MAX_FRAME_BYTES) expect(how[0] === 'frame', `valid image ${id} was ${how[0]}`);
    }
  });
  return { property };
});
