/**
 * What a client sends on a live session's channel (a DataChannel or the WebSocket bridge) and what the server must
 * answer, shared by the `websocket` and `datachannel` targets: control messages (`ping`/`set`: structured, mutated,
 * oversized, any JSON, free text), JPEG/WebP frames as valid chunks, chunks with mutated headers and payloads, random
 * bytes, text that is not UTF-8; and the checks on the answers.
 */
import fc from 'fast-check';
import { encodeFrameChunks, parseFrameChunk, ServerMessage } from '@sightline/protocol';
import { controlText } from './control-messages.fuzz.js';
import { imageSamples } from './frame-chunks.fuzz.js';
import type { Tally } from './fuzz-target.js';
import { mutatedBytes } from './mutators.js';

/** A message to send; `frame` marks the chunks of a whole, valid frame (it must be acknowledged). */
export type Outgoing = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Uint8Array; frame?: number } | { kind: 'bad-utf8'; bytes: Uint8Array };

/** Valid chunk messages of small images, to mutate. */
export async function chunkSamples(): Promise<Uint8Array[]> {
  return (await imageSamples()).flatMap((img, i) => encodeFrameChunks(img.bytes, i, i, 200));
}

/** Up to 6 messages (a frame counts as one: all its chunks). */
export async function sessionMessages(): Promise<fc.Arbitrary<Outgoing[]>> {
  const images = await imageSamples();
  const chunks = await chunkSamples();
  const frames = fc
    .tuple(fc.nat(images.length - 1), fc.nat(1000), fc.integer({ min: 50, max: 2000 }))
    .map(([i, id, size]) => encodeFrameChunks(images[i]!.bytes, id, id, size).map((bytes): Outgoing => ({ kind: 'binary', bytes, frame: id })));
  const message = fc.oneof(
    { weight: 6, arbitrary: controlText().map((text): Outgoing[] => [{ kind: 'text', text }]) },
    { weight: 3, arbitrary: frames },
    { weight: 3, arbitrary: mutatedBytes(chunks).map((bytes): Outgoing[] => [{ kind: 'binary', bytes }]) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): Outgoing[] => [{ kind: 'binary', bytes }]) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x7b, 0xf8])
        .map((b): Outgoing[] => [{ kind: 'bad-utf8', bytes: Uint8Array.from(b) }]),
    },
  );
  return fc.array(message, { maxLength: 6 }).map((m) => m.flat());
}

/** Whether frame `id`'s chunks in `messages` are those of one frame (one chunk of each index, one count). */
function isSingleFrame(messages: readonly Outgoing[], id: number): boolean {
  const chunks = messages.flatMap((m) => (m.kind === 'binary' && m.frame === id ? [parseFrameChunk(m.bytes)] : []));
  const parsed = chunks.filter((c): c is Exclude<typeof c, { error: string }> => !('error' in c));
  return parsed.length === chunks.length && parsed.length === parsed[0]?.count && new Set(parsed.map((c) => c.index)).size === parsed.length;
}

/**
 * The frames of `messages` the server must acknowledge (`frame_ack`): whole, valid frames whose id no other chunk
 * (mutated, junk) claimed.
 */
export function framesToAcknowledge(messages: readonly Outgoing[]): number[] {
  const claimed = new Set<number>();
  const whole = new Set<number>();
  for (const m of messages) {
    if (m.kind !== 'binary') continue;
    if (m.frame !== undefined) whole.add(m.frame);
    else {
      const c = parseFrameChunk(m.bytes);
      if (!('error' in c)) claimed.add(c.frameId);
    }
  }
  return [...whole].filter((id) => !claimed.has(id) && isSingleFrame(messages, id));
}

/**
 * Checks what the server sent (text messages, as received): each JSON and a valid `ServerMessage`, no error that is
 * the server's fault (`internal`, `processing_failed`). Counts message types and error codes. Returns the parsed ones.
 */
export function checkServerMessages(received: readonly (string | { binary: true })[], tally: Tally): ServerMessage[] {
  const out: ServerMessage[] = [];
  for (const m of received) {
    if (typeof m !== 'string') throw new Error('the server sent a binary message');
    let json: unknown;
    try {
      json = JSON.parse(m);
    } catch {
      throw new Error(`the server sent a message that is not JSON: ${m.slice(0, 200)}`);
    }
    const parsed = ServerMessage.safeParse(json);
    if (!parsed.success) throw new Error(`the server sent a message that is not a ServerMessage: ${m.slice(0, 300)}`);
    const msg = parsed.data;
    tally.saw(msg.type === 'error' ? `error ${msg.code}` : msg.type === 'frame_ack' ? `frame_ack ${msg.status}` : msg.type);
    if (msg.type === 'error' && (msg.code === 'internal' || msg.code === 'processing_failed')) throw new Error(`the server answered ${m.slice(0, 300)}`);
    out.push(msg);
  }
  return out;
}
