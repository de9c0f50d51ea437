import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { type I420Frame, i420Size } from '../models/i420.js';
import { AudioTimeline, type PcmBlock, type PcmChunk, validChunk } from './audio-timeline.js';
import { BufferPool } from './buffer-pool.js';
import { recordingArgs } from './ffmpeg-args.js';
import { type FfmpegExit, FfmpegProcess } from './ffmpeg-process.js';
import { fitI420Into } from './i420-fit.js';
import { AUDIO_TRACK, type MkvAudioTrack, mkvBlockHead, mkvHeader, VIDEO_TRACK } from './matroska-writer.js';

export interface RecorderOptions {
  /** Folder of the files (created if missing). */
  dir: string;
  /** Names the files: letters, digits, `.`, `_`, `-`. */
  sessionId: string;
  /** Whether the recording has an audio track (silence where no audio came). */
  audio: boolean;
  /** Default 'ffmpeg' (found on PATH). */
  ffmpegPath?: string;
  /** Audio track format; chunks in another one are converted. Default 48 kHz mono. */
  audioSampleRate?: number;
  audioChannels?: number;
  /**
   * Video frames' worth of bytes that may wait for ffmpeg before new frames are dropped. Default 8; four times as
   * many during the first second of video, while ffmpeg starts its encoder; never less than 2 MB.
   */
  maxBufferedFrames?: number;
  /** libx264 preset. Default 'veryfast'. */
  x264Preset?: string;
  /** How long close() waits for ffmpeg to finish before killing it. Default 10 s. */
  closeTimeoutMs?: number;
  /** Called once if ffmpeg exits or the results file fails before close() (the recording goes on counting drops). */
  onError?: (err: Error) => void;
}

/** Counters of one recording; everything not written is counted as dropped. */
export interface RecorderStats {
  /** Frames handed to ffmpeg, of which `videoResized` were scaled to the first frame's size. */
  videoFrames: number;
  videoResized: number;
  /** Frames not recorded: ffmpeg behind (backpressure), gone, bad frames, or written after close. */
  videoDropped: number;
  audioChunks: number;
  audioDropped: number;
  /** Silence inserted where audio was missing (gaps, no audio yet, or none at all). */
  audioSilenceMs: number;
  messages: number;
  messagesDropped: number;
  /** Raw bytes piped to ffmpeg, and bytes of the results file. */
  mediaBytesIn: number;
  resultsBytes: number;
}

export interface RecordingPaths {
  /** `<sessionId>.mp4`; null in the summary when no frame or audio came (no file then). */
  media: string;
  results: string;
  summary: string;
}

/** What close() returns and writes to `<sessionId>.json`. */
export interface RecordingSummary {
  sessionId: string;
  paths: Omit<RecordingPaths, 'media'> & { media: string | null };
  startedAt: string;
  endedAt: string;
  /** Wall-clock time from create() to close(). */
  durationMs: number;
  /** Arrival times of the first and last recorded media (Unix ms), and the span between them. */
  firstMediaAt: number | null;
  lastMediaAt: number | null;
  mediaSpanMs: number;
  video: { width: number; height: number } | null;
  audio: MkvAudioTrack | null;
  stats: RecorderStats;
  mediaFileBytes: number;
  ffmpeg: { args: string[] } & Omit<FfmpegExit, 'error'>;
  /** Everything that went wrong (ffmpeg failure with its stderr tail, results or summary file errors). */
  errors: string[];
}

/** Most bytes of audio kept while waiting for the first video frame (the video size is needed for the header). */
const PENDING_AUDIO_BYTES = 1 << 20;
/** The backlog bound never goes below this (small frames; audio queued before the first frame). */
const MIN_BACKLOG_BYTES = 2 << 20;
/** Without audio for this long on the video clock, silence is filled (up to this much behind the video). */
const AUDIO_STALE_MS = 500;
/** The results file is behind by this much: messages are dropped. */
const MAX_RESULTS_BACKLOG = 4 << 20;
/** While ffmpeg starts (from the first frame), the backlog may be this many times larger. */
const STARTUP_MS = 1000;
const STARTUP_FACTOR = 4;
const SESSION_ID = /^[A-Za-z0-9._-]{1,128}$/;
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Records one session: its video (and audio) to one fragmented MP4 through an ffmpeg child, and its messages to a
 * JSON lines file. Writes never block or throw: media goes to ffmpeg's stdin as Matroska blocks with the arrival
 * time as timestamp (variable frame rate kept); when ffmpeg falls behind by more than `maxBufferedFrames` frames,
 * new frames are dropped and counted. Frames are copied at once (the caller may reuse or transfer them), frames of
 * another size are fitted to the first frame's size, and the audio track is kept contiguous with silence.
 */
export class SessionRecorder {
  readonly paths: RecordingPaths;
  readonly #opts: RecorderOptions;
  readonly #ff: FfmpegProcess;
  readonly #args: string[];
  readonly #results: WriteStream;
  readonly #stats: RecorderStats = {
    videoFrames: 0,
    videoResized: 0,
    videoDropped: 0,
    audioChunks: 0,
    audioDropped: 0,
    audioSilenceMs: 0,
    messages: 0,
    messagesDropped: 0,
    mediaBytesIn: 0,
    resultsBytes: 0,
  };
  readonly #startedAt = Date.now();
  readonly #timeline: AudioTimeline | null;
  readonly #errors: string[] = [];
  readonly #pool = new BufferPool();
  #video: { width: number; height: number } | null = null;
  #headerWritten = false;
  #pending: { buf: Buffer; chunk: boolean }[] = [];
  #pendingBytes = 0;
  #t0: number | null = null;
  #lastAt: number | null = null;
  #firstVideoTs = -1;
  #lastVideoTs = -1;
  #closing: Promise<RecordingSummary> | null = null;
  #errorReported = false;

  private constructor(opts: RecorderOptions, ff: FfmpegProcess, args: string[], paths: RecordingPaths, results: WriteStream) {
    this.#opts = opts;
    this.#ff = ff;
    this.#args = args;
    this.paths = paths;
    this.#results = results;
    this.#timeline = opts.audio ? new AudioTimeline(opts.audioSampleRate ?? 48_000, opts.audioChannels ?? 1) : null;
    results.on('error', (e) => {
      this.#errors.push(`results file: ${e.message}`);
      this.#report(`results file: ${e.message}`);
    });
    // Reported now; close() puts the exit in `errors`.
    void ff.exited.then(({ code, signal }) => {
      if (!this.#closing) this.#report(`ffmpeg exited early with ${code ?? signal}: ${ff.stderrTail}`);
    });
  }

  /** Creates the folder, opens the results file and starts ffmpeg; rejects when either cannot be done. */
  static async create(opts: RecorderOptions): Promise<SessionRecorder> {
    if (!SESSION_ID.test(opts.sessionId) || /^\.+$/.test(opts.sessionId)) throw new Error(`session id '${opts.sessionId}' cannot name a file`);
    const channels = opts.audioChannels ?? 1;
    const rate = opts.audioSampleRate ?? 48_000;
    if (!(channels === 1 || channels === 2) || !Number.isInteger(rate) || rate < 8000 || rate > 96_000) {
      throw new Error(`unsupported audio track: ${channels} channels at ${rate} Hz (1 or 2 channels, 8-96 kHz)`);
    }
    await mkdir(opts.dir, { recursive: true });
    const base = join(opts.dir, opts.sessionId);
    const paths = { media: `${base}.mp4`, results: `${base}.results.jsonl`, summary: `${base}.json` };
    const results = createWriteStream(paths.results);
    await new Promise<void>((resolve, reject) => {
      results.once('open', () => resolve());
      results.once('error', reject);
    });
    const args = recordingArgs(paths.media, { x264Preset: opts.x264Preset ?? 'veryfast', audioBitrate: !opts.audio ? null : channels > 1 ? 128_000 : 96_000 });
    try {
      const ff = await FfmpegProcess.start(opts.ffmpegPath ?? 'ffmpeg', args);
      return new SessionRecorder(opts, ff, args, paths, results);
    } catch (e) {
      results.destroy();
      throw e;
    }
  }

  get stats(): Readonly<RecorderStats> {
    if (this.#timeline) this.#stats.audioSilenceMs = this.#timeline.silenceMs;
    return this.#stats;
  }

  /** Records a frame that arrived at `atMs` (Unix ms). Copies it before returning. */
  writeVideo(frame: I420Frame, atMs: number): void {
    if (this.#closing || frame.width < 2 || frame.height < 2 || frame.data.length < i420Size(frame.width, frame.height)) {
      this.#stats.videoDropped++;
      return;
    }
    const t = this.#clock(atMs);
    if (!this.#headerWritten) this.#writeHeader({ width: frame.width & ~1, height: frame.height & ~1 });
    const { width, height } = this.#video!;
    const size = i420Size(width, height);
    if (!this.#ff.writable || this.#ff.pendingBytes + size > this.#backlogBound(t)) {
      this.#stats.videoDropped++;
      return;
    }
    const ts = Math.max(t, this.#lastVideoTs + 1);
    const payload = this.#pool.take(size);
    if (frame.width === width && frame.height === height) {
      payload.set(frame.data.subarray(0, size));
    } else {
      fitI420Into(frame, payload, 0, width, height);
      this.#stats.videoResized++;
    }
    this.#send(mkvBlockHead(VIDEO_TRACK, ts, size));
    this.#send(payload, () => this.#pool.give(payload));
    this.#stats.videoFrames++;
    if (this.#firstVideoTs < 0) this.#firstVideoTs = ts;
    this.#lastVideoTs = ts;
    this.#lastAt = Math.max(this.#lastAt ?? atMs, atMs);
    if (this.#timeline) this.#sendAudio(this.#timeline.fillTo(ts - AUDIO_STALE_MS));
  }

  /** Records an audio chunk (interleaved s16) that arrived at `atMs` (Unix ms). Ignored (counted) without audio. */
  writeAudio(chunk: PcmChunk, atMs: number): void {
    if (!this.#timeline || this.#closing || !validChunk(chunk)) {
      this.#stats.audioDropped++;
      return;
    }
    const t = this.#clock(atMs);
    // Audio is small: it waits behind twice the video bound, so it is only dropped once ffmpeg is far behind.
    if (this.#headerWritten && (!this.#ff.writable || this.#ff.pendingBytes > 2 * this.#backlogBound(t))) {
      this.#stats.audioDropped++;
      return;
    }
    const blocks = this.#timeline.push(chunk, t);
    this.#lastAt = Math.max(this.#lastAt ?? atMs, atMs);
    this.#sendAudio(blocks);
  }

  /** Appends one message (an object, or its JSON) as a line of the results file. */
  writeMessage(msg: object | string): void {
    let line: string;
    try {
      line = `${typeof msg === 'string' ? msg : JSON.stringify(msg)}\n`;
    } catch {
      this.#stats.messagesDropped++;
      return;
    }
    if (this.#closing || this.#results.destroyed || this.#results.writableLength > MAX_RESULTS_BACKLOG) {
      this.#stats.messagesDropped++;
      return;
    }
    this.#results.write(line);
    this.#stats.messages++;
    this.#stats.resultsBytes += Buffer.byteLength(line);
  }

  /**
   * Finishes the recording: ends ffmpeg's input and waits for it (killed after `closeTimeoutMs`), closes the results
   * file, writes the summary. Never rejects; failures are in `errors`. Later calls return the same promise.
   */
  close(): Promise<RecordingSummary> {
    this.#closing ??= this.#finish();
    return this.#closing;
  }

  async #finish(): Promise<RecordingSummary> {
    if (!this.#headerWritten && this.#pending.length > 0) this.#writeHeader(null);
    if (this.#timeline && this.#video) this.#sendAudio(this.#timeline.fillTo(this.#lastVideoTs));
    const empty = !this.#headerWritten;
    const exit = await this.#ff.stop(this.#opts.closeTimeoutMs ?? 10_000, empty);
    if (exit.error) this.#errors.push(exit.error);
    await new Promise<void>((resolve) => (this.#results.destroyed ? resolve() : this.#results.end(resolve)));
    const mediaFileBytes = empty
      ? 0
      : await stat(this.paths.media).then(
          (s) => s.size,
          () => 0,
        );
    const endedAt = Date.now();
    const { error: _, ...ffmpegExit } = exit;
    const first = this.#t0;
    const summary: RecordingSummary = {
      sessionId: this.#opts.sessionId,
      paths: { ...this.paths, media: empty ? null : this.paths.media },
      startedAt: new Date(this.#startedAt).toISOString(),
      endedAt: new Date(endedAt).toISOString(),
      durationMs: endedAt - this.#startedAt,
      firstMediaAt: first,
      lastMediaAt: this.#lastAt,
      mediaSpanMs: first !== null && this.#lastAt !== null ? Math.round(this.#lastAt - first) : 0,
      video: this.#video,
      audio: this.#timeline && !empty ? { sampleRate: this.#timeline.sampleRate, channels: this.#timeline.channels } : null,
      stats: { ...this.stats },
      mediaFileBytes,
      ffmpeg: { args: this.#args, ...ffmpegExit },
      errors: this.#errors,
    };
    try {
      await writeFile(this.paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
    } catch (e) {
      this.#errors.push(`summary file: ${(e as Error).message}`);
    }
    return summary;
  }

  /** Bytes that may wait for ffmpeg before a frame at `t` is dropped: `maxBufferedFrames` frames, more at start. */
  #backlogBound(t: number): number {
    const startup = this.#firstVideoTs < 0 || t - this.#firstVideoTs < STARTUP_MS;
    const frames = (this.#opts.maxBufferedFrames ?? 8) * (startup ? STARTUP_FACTOR : 1);
    return Math.max(MIN_BACKLOG_BYTES, frames * (this.#video ? i420Size(this.#video.width, this.#video.height) : 0));
  }

  /** Milliseconds since the first media write (the recording's zero), never negative. */
  #clock(atMs: number): number {
    this.#t0 ??= atMs;
    return Math.max(0, Math.round(atMs - this.#t0));
  }

  #writeHeader(video: { width: number; height: number } | null): void {
    this.#video = video;
    const audio = this.#timeline && { sampleRate: this.#timeline.sampleRate, channels: this.#timeline.channels };
    this.#send(mkvHeader(video, audio));
    this.#headerWritten = true;
    for (const p of this.#pending) {
      const sent = this.#send(p.buf);
      if (p.chunk) this.#stats[sent ? 'audioChunks' : 'audioDropped']++;
    }
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  #sendAudio(blocks: PcmBlock[]): void {
    for (const b of blocks) {
      const bytes = b.pcm.length * 2;
      const head = mkvBlockHead(AUDIO_TRACK, b.timestampMs, bytes);
      const buf = Buffer.allocUnsafe(head.length + bytes);
      head.copy(buf);
      buf.set(new Uint8Array(b.pcm.buffer, b.pcm.byteOffset, bytes), head.length);
      if (!LITTLE_ENDIAN) buf.subarray(head.length).swap16();
      if (this.#headerWritten) {
        const sent = this.#send(buf);
        if (!b.silence) this.#stats[sent ? 'audioChunks' : 'audioDropped']++;
        continue;
      }
      this.#pending.push({ buf, chunk: !b.silence });
      this.#pendingBytes += buf.length;
      while (this.#pendingBytes > PENDING_AUDIO_BYTES) {
        const old = this.#pending.shift()!;
        this.#pendingBytes -= old.buf.length;
        if (old.chunk) this.#stats.audioDropped++;
      }
    }
  }

  /** Queues bytes for ffmpeg unless it is gone; false when not sent. */
  #send(buf: Buffer, done?: () => void): boolean {
    if (!this.#ff.writable) return false;
    this.#ff.write(buf, done);
    this.#stats.mediaBytesIn += buf.length;
    return true;
  }

  #report(message: string): void {
    if (this.#errorReported) return;
    this.#errorReported = true;
    this.#opts.onError?.(new Error(`recording ${this.#opts.sessionId}: ${message}`));
  }
}
