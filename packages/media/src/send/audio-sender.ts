import { randomInt } from 'node:crypto';
import { OpusEncoder } from '../codecs/opus-encoder.js';
import type { AudioChunk } from '../media-frames.js';
import { serializeRtpPacket } from '../rtp/rtp-packet.js';

export interface AudioSenderOptions {
  payloadType: number;
  ssrc: number;
  /** Channels of the PCM given to `sendPcm` (default 1). */
  channels?: 1 | 2;
  /** Whether the track can send now (DTLS done); audio before that is encoded (the clock runs on) but not sent. */
  isOpen: () => boolean;
  /** Sends one RTP packet on the track; false or a throw when it could not. */
  send: (packet: Uint8Array) => boolean;
}

export interface AudioSenderCounters {
  /** Opus packets encoded, sent, and not sent (track not open, or the send failed). */
  packetsEncoded: number;
  packetsSent: number;
  packetsSkipped: number;
  bytesSent: number;
}

/**
 * The send path of one audio track: 48 kHz 16-bit PCM → Opus (20 ms frames, libopus in-process) → one RTP packet per
 * frame (RFC 7587). The RTP clock is the sample count: a chunk's timestamp follows from the samples before it.
 */
export class AudioSender {
  readonly counters: AudioSenderCounters = { packetsEncoded: 0, packetsSent: 0, packetsSkipped: 0, bytesSent: 0 };
  readonly #opts: AudioSenderOptions;
  readonly #encoder: OpusEncoder;
  readonly #channels: 1 | 2;
  readonly #rtpBase = randomInt(0, 2 ** 32);
  #samples = 0;
  #seq = randomInt(0, 0x10000);
  #first = true;
  #closed = false;

  constructor(opts: AudioSenderOptions) {
    this.#opts = opts;
    this.#channels = opts.channels ?? 1;
    this.#encoder = new OpusEncoder({ channels: this.#channels });
  }

  /** Encodes a chunk of 48 kHz PCM and sends the packets it completes. Throws for PCM of another rate or layout. */
  sendPcm(chunk: AudioChunk): void {
    if (this.#closed) return;
    const timestamp = (this.#rtpBase + this.#samples) >>> 0;
    this.#samples += chunk.samples.length / this.#channels;
    for (const e of this.#encoder.encode(chunk, timestamp)) {
      this.counters.packetsEncoded++;
      const packet = serializeRtpPacket({
        // The first packet of a talkspurt carries the marker (RFC 3551); here, the first of the stream.
        marker: this.#first,
        payloadType: this.#opts.payloadType,
        sequenceNumber: this.#seq,
        timestamp: e.rtpTimestamp,
        ssrc: this.#opts.ssrc,
        payload: e.data,
      });
      let sent: boolean;
      try {
        sent = this.#opts.isOpen() && this.#opts.send(packet);
      } catch {
        sent = false;
      }
      if (!sent) {
        this.counters.packetsSkipped++;
        continue;
      }
      this.#first = false;
      this.#seq = (this.#seq + 1) & 0xffff;
      this.counters.packetsSent++;
      this.counters.bytesSent += e.data.length;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#encoder.close();
  }
}
