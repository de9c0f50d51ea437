/**
 * The ndc engine's send path as a component: a VideoSender (real encoder, packetizer, RTP, NACK history, SR) feeds a
 * VideoReceiver (real depacketizer, reorder buffer, NACK tracker, decoder) through a fake track that hands buffers
 * across in-process, RTCP going back the same way. Time is a fake clock passed to both.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  i420Size,
  VIDEO_CODECS,
  type VideoCodec,
  videoDecoderName,
  videoEncoderName,
  type I420Frame,
  evenSized,
  ffmpegEncoder,
  VideoSender,
  type VideoSenderOptions,
  buildFir,
  buildRemb,
  parseRtcp,
  type SenderReport,
  isRtcp,
  parseRtpPacket,
} from '@sightline/media';
import { ffmpegDecoder } from '../../src/engine/ndc/ndc-codecs.js';
import { VideoReceiver } from '../../src/engine/ndc/video-receiver.js';

function pattern(width: number, height: number, i: number): I420Frame {
  const data = new Uint8Array(i420Size(width, height));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = Math.round(128 + 90 * Math.sin((x + 3 * i) / 11) * Math.cos(y / 9));
  }
  data.fill(100, width * height, width * height + Math.ceil(width / 2) * Math.ceil(height / 2));
  data.fill(150, width * height + Math.ceil(width / 2) * Math.ceil(height / 2));
  return { width, height, data };
}

function lumaDiff(a: I420Frame, b: I420Frame): number {
  let sum = 0;
  for (let k = 0; k < a.width * a.height; k += 5) sum += Math.abs(a.data[k]! - b.data[k]!);
  return sum / Math.ceil((a.width * a.height) / 5);
}

/** A sender and a receiver joined by a fake track; `drop` decides which RTP packets are lost on the way. */
function link(codec: VideoCodec, opts: Partial<VideoSenderOptions> = {}) {
  const clock = { now: 1000 };
  const received: I420Frame[] = [];
  const toSender: Uint8Array[] = [];
  const wire: Uint8Array[] = [];
  const state = { open: true, drop: (_seq: number, _index: number) => false };
  let sent = 0;
  const receiver = new VideoReceiver({
    codec,
    payloadType: 102,
    decoder: ffmpegDecoder(codec),
    sendRtcp: (packet) => {
      toSender.push(packet);
      sender.onRtcp(packet, clock.now);
    },
    onFrame: (frame) => received.push(frame),
    maxBitrateBps: 2_000_000,
    reorderWaitMs: 60,
  });
  const sender: VideoSender = new VideoSender({
    codec,
    payloadType: 102,
    ssrc: 0x1234_5678,
    isOpen: () => state.open,
    send: (packet) => {
      wire.push(packet);
      const rtp = isRtcp(packet) ? undefined : parseRtpPacket(packet);
      if (rtp && state.drop(rtp.sequenceNumber, sent++)) return true;
      receiver.onPacket(packet, clock.now);
      return true;
    },
    ...opts,
  });
  /** Sends frame i at 30 fps on the fake clock, with receiver ticks in between. */
  const frame = (i: number, f: I420Frame = pattern(320, 240, i)): void => {
    sender.sendFrame(f, clock.now);
    for (let t = 0; t < 33; t += 5) {
      clock.now += 5;
      receiver.tick(clock.now);
      sender.tick(clock.now);
    }
  };
  const close = (): void => {
    sender.close();
    receiver.close();
  };
  return { clock, sender, receiver, received, toSender, wire, state, frame, close };
}

const both = VIDEO_CODECS.filter((c) => videoEncoderName(c) !== undefined && videoDecoderName(c) !== undefined);

describe('VideoSender → fake track → VideoReceiver', () => {
  for (const codec of VIDEO_CODECS) {
    test(
      `${codec}: every frame arrives decoded, the picture kept, timestamps on the 90 kHz wall clock`,
      { skip: !both.includes(codec) && `no ${codec} codecs` },
      () => {
        const l = link(codec);
        try {
          const frames = Array.from({ length: 10 }, (_, i) => pattern(320, 240, i));
          frames.forEach((f, i) => l.frame(i, f));
          assert.equal(l.received.length, 10);
          l.received.forEach((f, i) => {
            assert.equal(f.width, 320);
            assert.ok(lumaDiff(f, frames[i]!) < 12, `frame ${i}: mean |Δ| ${lumaDiff(f, frames[i]!).toFixed(1)}`);
          });
          // Frames 35 ms apart on the fake clock: 3150 ticks of 90 kHz.
          const steps = l.received.slice(1).map((f, i) => (f.rtpTimestamp! - l.received[i]!.rtpTimestamp!) >>> 0);
          assert.deepEqual(new Set(steps), new Set([3150]));
          const c = l.sender.counters;
          assert.equal(c.framesIn, 10);
          assert.equal(c.framesSent, 10);
          assert.equal(c.keyframes, 1);
          assert.ok(c.packetsSent >= 10);
          assert.equal(c.bitrateBps, 320 * 240 * 5);
          assert.equal(l.receiver.counters.framesDropped, 0);
          for (const p of l.wire.filter((b) => !isRtcp(b))) assert.ok(p.length <= 1200, `${p.length}-byte packet`);
        } finally {
          l.close();
        }
      },
    );
  }

  test('a lost packet is NACKed by the receiver and resent from the history; the frame still decodes', () => {
    const l = link('H264');
    try {
      l.state.drop = (_seq, index) => index === 12; // once: its resend gets through
      for (let i = 0; i < 10; i++) l.frame(i);
      assert.equal(l.received.length, 10);
      assert.equal(l.receiver.counters.framesDropped, 0);
      assert.ok(l.receiver.counters.nacks >= 1);
      assert.equal(l.sender.counters.nacksReceived, l.receiver.counters.nacks);
      assert.equal(l.sender.counters.packetsRetransmitted, 1);
      assert.equal(l.sender.counters.keyframes, 1, 'no keyframe needed');
    } finally {
      l.close();
    }
  });

  test('a packet past the history is a miss; the receiver then asks for a keyframe (PLI) and gets one', () => {
    const l = link('H264', { historyMs: 0 });
    try {
      let index12: number | undefined;
      l.state.drop = (seq, index) => {
        if (index === 12) index12 = seq;
        return index === 12 || seq === index12; // lost, and every resend of it too
      };
      for (let i = 0; i < 12; i++) l.frame(i);
      assert.ok(l.sender.counters.retransmitMisses >= 1);
      assert.ok(l.receiver.counters.plis >= 1);
      assert.equal(l.sender.counters.plisReceived, l.receiver.counters.plis);
      assert.equal(l.sender.counters.keyframes, 2);
      assert.ok(l.receiver.counters.framesDropped >= 1);
      // Decoding resumed at the new keyframe.
      assert.ok(l.received.length >= 8, `${l.received.length} frames decoded`);
    } finally {
      l.close();
    }
  });

  test('FIR naming this SSRC makes the next frame a keyframe; REMB is noted', () => {
    const l = link('VP8');
    try {
      l.frame(0);
      l.frame(1);
      l.sender.onRtcp(buildFir({ senderSsrc: 1, entries: [{ ssrc: 0x1234_5678, seqNr: 1 }] }));
      l.sender.onRtcp(buildFir({ senderSsrc: 1, entries: [{ ssrc: 99, seqNr: 1 }] }));
      l.sender.onRtcp(buildRemb({ senderSsrc: 1, bitrateBps: 800_000, ssrcs: [0x1234_5678] }));
      l.frame(2);
      l.frame(3);
      assert.equal(l.sender.counters.firsReceived, 1);
      assert.equal(l.sender.counters.keyframes, 2);
      assert.equal(l.sender.counters.rembBps, 800_000);
      assert.equal(l.received.length, 4);
    } finally {
      l.close();
    }
  });

  test('frames before the track opens are skipped; the first one sent is a keyframe', () => {
    const l = link('H264');
    try {
      l.state.open = false;
      l.frame(0);
      l.frame(1);
      l.state.open = true;
      l.frame(2);
      assert.equal(l.sender.counters.framesSkipped, 2);
      assert.equal(l.sender.counters.framesSent, 1);
      assert.equal(l.sender.counters.keyframes, 1);
      assert.equal(l.received.length, 1);
    } finally {
      l.close();
    }
  });

  test('a new picture size makes a new encoder (a keyframe, the bitrate for the size); odd sizes are cropped even for H.264', () => {
    const l = link('H264');
    try {
      l.frame(0);
      l.frame(1, pattern(641, 481, 1));
      l.frame(2, pattern(640, 480, 2));
      assert.deepEqual(
        l.received.map((f) => [f.width, f.height]),
        [
          [320, 240],
          [640, 480],
          [640, 480],
        ],
      );
      assert.equal(l.sender.counters.keyframes, 2);
      assert.equal(l.sender.counters.bitrateBps, 640 * 480 * 5);
    } finally {
      l.close();
    }
  });

  test('a sender report every second: SSRC, counts, and the RTP clock of the frames', () => {
    const l = link('VP8');
    try {
      for (let i = 0; i < 40; i++) l.frame(i);
      const srs = l.wire
        .filter(isRtcp)
        .flatMap((b) => parseRtcp(b) ?? [])
        .filter((p): p is SenderReport => p.type === 'sr');
      assert.ok(srs.length >= 1 && srs.length <= 2, `${srs.length} SRs in 1.4 s`);
      const sr = srs.at(-1)!;
      assert.equal(sr.ssrc, 0x1234_5678);
      assert.ok(sr.packetCount > 0 && sr.octetCount > 0 && sr.packetCount <= l.sender.counters.packetsSent);
      // The SR's RTP time is on the frames' clock: within a second of the last frame's timestamp.
      const last = l.received.at(-1)!.rtpTimestamp!;
      assert.ok(Math.abs((sr.rtpTimestamp - last) | 0) < 90_000);
      const ntpNow = Date.now() / 1000 + 2_208_988_800;
      assert.ok(Math.abs(sr.ntpSeconds - ntpNow) < 60);
    } finally {
      l.close();
    }
  });

  test('after close nothing is sent; a failing encoder is counted, replaced, and the next frame is a keyframe', () => {
    let failures = 1;
    const l = link('H264', {
      createEncoder: (codec, width, height, bitrate) => {
        if (failures-- > 0) return { encode: () => assert.fail('encoder failed'), close: () => {} };
        return ffmpegEncoder(codec, width, height, bitrate);
      },
    });
    try {
      l.frame(0);
      l.frame(1);
      assert.equal(l.sender.counters.encodeErrors, 1);
      assert.equal(l.sender.counters.framesSent, 1);
      assert.equal(l.received.length, 1);
      l.close();
      const before = l.wire.length;
      l.frame(2);
      assert.equal(l.wire.length, before);
    } finally {
      l.close();
    }
  });
});

test('evenSized crops the last column and row of each plane, keeping the frame fields', () => {
  const f = pattern(5, 3, 0);
  f.data.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], 0);
  f.data.set([21, 22, 23, 24, 25, 26], 15); // U 3x2
  f.data.set([31, 32, 33, 34, 35, 36], 21); // V 3x2
  const e = evenSized({ ...f, rtpTimestamp: 7 });
  assert.equal(e.width, 4);
  assert.equal(e.height, 2);
  assert.deepEqual([...e.data], [1, 2, 3, 4, 6, 7, 8, 9, 21, 22, 31, 32]);
  assert.equal(e.rtpTimestamp, 7);
  const even = pattern(4, 2, 0);
  assert.equal(evenSized(even), even);
});
