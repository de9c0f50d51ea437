import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { offerCanReceiveVideo } from '../../src/engine/sdp-check.js';
import { i420Size } from '../../src/models/i420.js';
import { blurRegionsI420, sobelEdgesI420 } from '../../src/models/i420-filters.js';

const frame = (W: number, H: number, luma: (x: number, y: number) => number) => {
  const data = new Uint8Array(i420Size(W, H)).fill(128);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = luma(x, y);
  return { width: W, height: H, data };
};
const variance = (f: { width: number; data: Uint8Array }, x0: number, y0: number, x1: number, y1: number) => {
  const v: number[] = [];
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) v.push(f.data[y * f.width + x]!);
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
};

describe('I420 filters', () => {
  test('Sobel: a vertical step gives one edge column pair, flat areas none', () => {
    const f = frame(32, 16, (x) => (x < 16 ? 20 : 220));
    const fraction = sobelEdgesI420(f, 60);
    assert.equal(f.data[8 * 32 + 15], 255);
    assert.equal(f.data[8 * 32 + 16], 255);
    assert.equal(f.data[8 * 32 + 5], 16);
    assert.ok(fraction > 0 && fraction < 0.15);
    assert.equal(f.data[32 * 16], 128, 'chroma neutral');
  });

  test('blur: a checkerboard region loses most of its variance; outside is untouched', () => {
    const f = frame(64, 64, (x, y) => (((x >> 1) + (y >> 1)) % 2 ? 230 : 20));
    const before = variance(f, 16, 16, 48, 48);
    const outside = f.data[2 * 64 + 2];
    blurRegionsI420(f, [[16, 16, 32, 32]], 6);
    assert.ok(variance(f, 20, 20, 44, 44) < before * 0.1);
    assert.equal(f.data[2 * 64 + 2], outside);
  });

  test('offerCanReceiveVideo: sendrecv or recvonly video sections only', () => {
    const sdp = (dir: string) =>
      `v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=${dir}\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n`;
    assert.equal(offerCanReceiveVideo(sdp('sendrecv')), true);
    assert.equal(offerCanReceiveVideo(sdp('recvonly')), true);
    assert.equal(offerCanReceiveVideo(sdp('sendonly')), false);
  });
});
