import sharp from 'sharp';
import { rgbToI420, type I420Frame } from './i420.js';

export type ImageFormat = 'jpeg' | 'webp';

/** The format of an encoded image, told by its first bytes; null for anything else. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (
    bytes.length >= 12 &&
    bytes[0] === 0x52 &&
    bytes[1] === 0x49 &&
    bytes[2] === 0x46 &&
    bytes[3] === 0x46 && // RIFF
    bytes[8] === 0x57 &&
    bytes[9] === 0x45 &&
    bytes[10] === 0x42 &&
    bytes[11] === 0x50 // WEBP
  ) {
    return 'webp';
  }
  return null;
}

/** The bytes are JPEG/WebP by their header but do not decode, or the picture is larger than allowed. */
export class ImageDecodeError extends Error {
  constructor(
    message: string,
    readonly code: 'invalid_frame' | 'unsupported_format' | 'frame_too_large',
  ) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

/**
 * Decodes a JPEG or WebP image to I420. The decode itself runs on libuv's thread pool (sharp/libvips), off the
 * event loop; the RGB→I420 conversion runs here (~1 ms for 640x480). Pictures over `maxPixels` are refused from
 * their header, before any pixel is decoded.
 */
export async function decodeImageToI420(bytes: Uint8Array, maxPixels: number): Promise<I420Frame> {
  const format = sniffImageFormat(bytes);
  if (!format) throw new ImageDecodeError('frame is not a JPEG or WebP image (its first bytes say otherwise)', 'unsupported_format');
  try {
    // limitInputPixels makes libvips check the header's size first; failOn 'error' rejects truncated data.
    const img = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', sequentialRead: true });
    const { data, info } = await img.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageDecodeError(`decoded ${format} has ${info.channels} channels`, 'invalid_frame');
    return rgbToI420(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info.width, info.height, 3);
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    if (/pixel limit/i.test(msg)) throw new ImageDecodeError(`${format} image is larger than ${maxPixels} pixels`, 'frame_too_large');
    throw new ImageDecodeError(`${format} image does not decode: ${msg.split('\n')[0]!.slice(0, 200)}`, 'invalid_frame');
  }
}
