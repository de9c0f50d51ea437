/**
 * Encoded frames (JPEG or WebP) sent as binary messages on a DataChannel or WebSocket, for clients that do not
 * send a media track. Each frame is split into chunks; each chunk is one binary message:
 *
 *   offset  size  field
 *   0       2     magic 0x53 0x4C ("SL")
 *   2       1     version (1)
 *   3       1     flags (0; reserved)
 *   4       4     frame_id      uint32, big-endian — echoed in the frame's result and `frame_ack`
 *   8       2     chunk_index   uint16, big-endian, 0-based
 *   10      2     chunk_count   uint16, big-endian, ≥ 1
 *   12      8     timestamp_ms  float64, big-endian — the client's capture time, echoed as `client_ts_ms`
 *   20      …     payload       bytes of the encoded image
 *
 * Chunks of one frame may arrive in any order; frames are independent. Flow control: the client keeps at most
 * `window` frames unacknowledged; the server answers every frame with one `frame_ack` once it is done with it.
 */
export const FRAME_CHUNK_MAGIC = 0x534c;
export const FRAME_CHUNK_VERSION = 1;
export const FRAME_CHUNK_HEADER_BYTES = 20;
/** Payload bytes per chunk that every DataChannel implementation carries (16 KiB messages are portable). */
export const DEFAULT_FRAME_CHUNK_BYTES = 16 * 1024 - FRAME_CHUNK_HEADER_BYTES;
export const MAX_FRAME_ID = 0xffffffff;

export interface FrameChunkHeader {
  frameId: number;
  index: number;
  count: number;
  timestampMs: number;
}

export interface FrameChunk extends FrameChunkHeader {
  payload: Uint8Array;
}

/** Splits one encoded image into chunk messages. */
export function encodeFrameChunks(image: Uint8Array, frameId: number, timestampMs: number, chunkBytes = DEFAULT_FRAME_CHUNK_BYTES): Uint8Array[] {
  if (!Number.isInteger(frameId) || frameId < 0 || frameId > MAX_FRAME_ID) throw new RangeError(`frame id ${frameId} is not a uint32`);
  if (!(chunkBytes > 0)) throw new RangeError('chunkBytes must be positive');
  const count = Math.max(1, Math.ceil(image.byteLength / chunkBytes));
  if (count > 0xffff) throw new RangeError(`frame of ${image.byteLength} bytes needs ${count} chunks (max 65535)`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const payload = image.subarray(i * chunkBytes, Math.min(image.byteLength, (i + 1) * chunkBytes));
    const msg = new Uint8Array(FRAME_CHUNK_HEADER_BYTES + payload.byteLength);
    const view = new DataView(msg.buffer);
    view.setUint16(0, FRAME_CHUNK_MAGIC);
    view.setUint8(2, FRAME_CHUNK_VERSION);
    view.setUint8(3, 0);
    view.setUint32(4, frameId);
    view.setUint16(8, i);
    view.setUint16(10, count);
    view.setFloat64(12, timestampMs);
    msg.set(payload, FRAME_CHUNK_HEADER_BYTES);
    out.push(msg);
  }
  return out;
}

/** Reads one chunk message; returns why it is malformed instead of throwing. */
export function parseFrameChunk(message: ArrayBuffer | Uint8Array): FrameChunk | { error: string } {
  const bytes = message instanceof Uint8Array ? message : new Uint8Array(message);
  if (bytes.byteLength < FRAME_CHUNK_HEADER_BYTES) {
    return { error: `chunk of ${bytes.byteLength} bytes is shorter than the ${FRAME_CHUNK_HEADER_BYTES}-byte header` };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== FRAME_CHUNK_MAGIC) return { error: 'chunk does not start with the "SL" magic bytes' };
  const version = view.getUint8(2);
  if (version !== FRAME_CHUNK_VERSION) return { error: `chunk version ${version} is not supported (expected ${FRAME_CHUNK_VERSION})` };
  const frameId = view.getUint32(4);
  const index = view.getUint16(8);
  const count = view.getUint16(10);
  const timestampMs = view.getFloat64(12);
  if (count === 0) return { error: `frame ${frameId}: chunk_count is 0` };
  if (index >= count) return { error: `frame ${frameId}: chunk_index ${index} is not below chunk_count ${count}` };
  if (!Number.isFinite(timestampMs)) return { error: `frame ${frameId}: timestamp is not a finite number` };
  return { frameId, index, count, timestampMs, payload: bytes.subarray(FRAME_CHUNK_HEADER_BYTES) };
}
