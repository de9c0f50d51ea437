import type { CaptureHintMessage, ServerMessage } from '@sightline/protocol';
import type { EngineChannel, EnginePeer, VideoOutput } from '../engine/media-engine.js';
import type { I420Frame } from '../models/i420.js';
import { EarlyMessages, type HeldMessage } from './early-messages.js';

/** Something that follows a session's messages besides its DataChannel (SSE, WebSocket); `R`: why sessions end. */
export interface OutputWatcher<R extends string = string> {
  /** False when the watcher could not take it (a reader too slow to keep up): then it was not delivered to it. */
  onMessage(msg: ServerMessage): boolean | void;
  onEnd(reason: R): void;
}

export interface OutputRouterOptions {
  /** A channel with more than this many bytes buffered takes no message (it is counted as undelivered). */
  maxBufferedBytes: number;
  /** Messages kept while no one can read them (default 32). */
  earlyMessages?: number | undefined;
  /** The recording's message log: results, audio events and errors, as sent. */
  record?: ((text: string) => void) | undefined;
  /** Every message's fate, once known (history, metrics). */
  onSettled?: ((msg: ServerMessage, text: string, delivered: boolean) => void) | undefined;
  /** The processed video sent back on the session's own connection (mode video/both). */
  videoOut?: VideoOutput | undefined;
  /** A WHEP viewer came or went (not when the router closes). */
  onViewersChanged?: (() => void) | undefined;
}

/** A WHEP viewer: its own connection, and the video track it receives. */
export interface Viewer {
  peer: EnginePeer;
  output: VideoOutput;
}

/** What the router did with the session's results. */
export interface OutputCounters {
  sent: number;
  /** No reader took them: a full channel, evicted before any reader came, or still waiting when the session ended. */
  undelivered: number;
  /** Made before the first reader, held, then delivered (counted in `sent` too). */
  held: number;
}

/**
 * Where a session's messages go: the results DataChannel (the one labelled "results", else the first open), every
 * watcher (SSE/WebSocket readers), and the recording's log. While no one can read yet, messages wait (the newest
 * `earlyMessages`) and go out when a channel opens or a watcher attaches. A result counts as delivered only when a
 * reader took it. Replies (`to`) go to the channel that asked.
 */
export class OutputRouter<R extends string = string> {
  readonly #opts: OutputRouterOptions;
  readonly #channels: EngineChannel[] = [];
  readonly #watchers = new Set<OutputWatcher<R>>();
  readonly #early: EarlyMessages;
  readonly #viewers = new Map<string, Viewer>();
  /** The latest capture hint, while no reader has taken it. */
  #pendingHint: CaptureHintMessage | undefined;
  #sent = 0;
  #undelivered = 0;
  #held = 0;
  #closed = false;

  constructor(opts: OutputRouterOptions) {
    this.#opts = opts;
    this.#early = new EarlyMessages(opts.earlyMessages ?? 32);
  }

  get counters(): OutputCounters {
    return { sent: this.#sent, undelivered: this.#undelivered + this.#early.size, held: this.#held };
  }

  /** A channel the client opened: what waited goes out once it is open. */
  addChannel(ch: EngineChannel): void {
    this.#channels.push(ch);
    if (ch.open) this.#flush();
    else ch.onOpen = () => this.#flush();
  }

  /** A channel closed; returns how many are left. */
  removeChannel(ch: EngineChannel): number {
    const i = this.#channels.indexOf(ch);
    if (i >= 0) this.#channels.splice(i, 1);
    return this.#channels.length;
  }

  /** The session moved to a new connection: the old one's channels are gone (results wait for the new ones). */
  dropChannels(): void {
    this.#channels.length = 0;
  }

  /** Follows the messages (after those that waited for a reader); returns the unsubscribe function. */
  watch(w: OutputWatcher<R>): () => void {
    this.#watchers.add(w);
    this.#flush();
    return () => this.#watchers.delete(w);
  }

  /**
   * Sends a message: on `to` (a reply on the channel that asked), else on the results channel and to every watcher.
   * A message no one can read yet is held until one appears.
   */
  deliver(msg: ServerMessage, isResult: boolean, to?: EngineChannel): void {
    const text = JSON.stringify(msg);
    // The recording keeps what the models said: results, audio events and errors (not pongs or acks).
    if (isResult || msg.type === 'error' || msg.type === 'speech_start' || msg.type === 'speech_end' || msg.type === 'audio_level') this.#opts.record?.(text);
    const m = { msg, text, isResult };
    if (to) return this.#settle(m, to.bufferedAmount <= this.#opts.maxBufferedBytes && to.send(text));
    const ch = this.#resultsChannel();
    if (ch === undefined && this.#watchers.size === 0 && !this.#closed) {
      const evicted = this.#early.hold(m);
      if (evicted) this.#settle(evicted, false);
      return;
    }
    this.#settle(m, this.#send(ch, m));
  }

  /** The capture hint goes out like any message, but is kept aside (not in the bounded buffer) until a reader takes it. */
  sendHint(hint: CaptureHintMessage): void {
    const ok = this.#send(this.#resultsChannel(), { msg: hint, text: JSON.stringify(hint), isResult: false });
    this.#pendingHint = ok ? undefined : hint;
  }

  /**
   * Adds a WHEP viewer (already answered, `output` added): it receives every processed frame. It leaves when its
   * connection does, on `removeViewer`, or when the session ends.
   */
  addViewer(id: string, viewer: Viewer): void {
    if (this.#closed) {
      viewer.output.stop();
      viewer.peer.close();
      return;
    }
    this.#viewers.set(id, viewer);
    viewer.peer.onStateChange = (st) => {
      if (st === 'failed' || st === 'closed') this.removeViewer(id);
    };
    this.#opts.onViewersChanged?.();
  }

  removeViewer(id: string): boolean {
    const v = this.#viewers.get(id);
    if (!v) return false;
    this.#viewers.delete(id);
    v.output.stop();
    v.peer.close();
    if (!this.#closed) this.#opts.onViewersChanged?.();
    return true;
  }

  /** Drops the connected viewers from which nothing (RTCP) came for `idleMs` (`now` and the peers' times: performance.now()). */
  dropIdleViewers(now: number, idleMs: number): void {
    for (const [id, v] of this.#viewers) {
      const last = v.peer.lastInboundAt;
      if (v.peer.state === 'connected' && last !== undefined && now - last > idleMs) this.removeViewer(id);
    }
  }

  viewer(id: string): Viewer | undefined {
    return this.#viewers.get(id);
  }

  get viewerCount(): number {
    return this.#viewers.size;
  }

  /** Whether processed frames have anywhere to go (video back, viewers): the pipeline keeps a copy only then. */
  /** The session's connection was replaced (a resume): processed video now goes to the new one's output. */
  replaceVideoOut(out: VideoOutput | undefined): void {
    this.#opts.videoOut?.stop();
    this.#opts.videoOut = out;
  }

  get wantsFrames(): boolean {
    return this.#viewers.size > 0 || this.#opts.videoOut !== undefined;
  }

  /** A processed frame (rendered): to the video sent back and to every viewer. */
  sendFrame(frame: I420Frame): void {
    this.#opts.videoOut?.send(frame);
    for (const v of this.#viewers.values()) v.output.send(frame);
  }

  /**
   * The session is ending: viewers' tracks are stopped and their connections closed (before the session's own
   * connection). No `onViewersChanged`.
   */
  closeViewers(): void {
    const closed = this.#closed;
    this.#closed = true;
    for (const id of [...this.#viewers.keys()]) this.removeViewer(id);
    this.#closed = closed;
  }

  /** The session ended: what still waited is lost (counted), watchers are told, channels forgotten. Idempotent. */
  close(reason: R): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#channels.length = 0;
    for (const m of this.#early.takeAll()) this.#settle(m, false);
    for (const w of this.#watchers) w.onEnd(reason);
    this.#watchers.clear();
  }

  #resultsChannel(): EngineChannel | undefined {
    return this.#channels.find((c) => c.label === 'results' && c.open) ?? this.#channels.find((c) => c.open);
  }

  /** Sends on `ch` (if any) and to the watchers; true when someone took it. */
  #send(ch: EngineChannel | undefined, m: HeldMessage): boolean {
    let ok = ch !== undefined && ch.bufferedAmount <= this.#opts.maxBufferedBytes && ch.send(m.text);
    for (const w of this.#watchers) {
      try {
        if (w.onMessage(m.msg) !== false) ok = true;
      } catch {
        // A broken watcher is its route's business; the others still get the message.
      }
    }
    return ok;
  }

  /** A message's fate is known: counted, and reported. */
  #settle(m: HeldMessage, ok: boolean): void {
    this.#opts.onSettled?.(m.msg, m.text, ok);
    if (!m.isResult) return;
    if (ok) this.#sent++;
    else this.#undelivered++;
  }

  /** A reader appeared: what was held goes out, oldest first, then the capture hint if it never reached the client. */
  #flush(): void {
    const ch = this.#resultsChannel();
    if (ch === undefined && this.#watchers.size === 0) return;
    for (const m of this.#early.takeAll()) {
      const ok = this.#send(ch, m);
      if (ok && m.isResult) this.#held++;
      this.#settle(m, ok);
    }
    if (this.#pendingHint) this.sendHint(this.#pendingHint);
  }
}
