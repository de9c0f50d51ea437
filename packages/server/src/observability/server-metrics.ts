import { ErrorCode, type ResultMessage, type ServerMessage, type SessionSummary } from '@sightline/protocol';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LiveSession, SessionInfo, SessionObserver } from '../session/session-observer.js';
import { SessionTally, type TalliedField } from './session-tally.js';

/** How a session's media came in. */
export type Transport = 'webrtc' | 'ws' | 'whip';
export const TRANSPORTS: readonly Transport[] = ['webrtc', 'ws', 'whip'];

/** What the inference pool's scheduler has waiting: requests not yet given to a worker, and the oldest one's age. */
export interface PoolQueueStats {
  depth: number;
  oldestAgeMs: number;
  /** Waiting plus running. */
  pending?: number;
  /** Recent wait of requests for a worker (the pool's admission-control signal), ms. */
  waitMs?: number;
}

/** A live session as the metrics see it (`Session` fits). */
export interface SessionSource {
  readonly id: string;
  summary(): SessionSummary;
}

/** The process's native side: threads, and the media stack's live objects. */
export interface NativeResources {
  threads: number | undefined;
  /** Peer connections open in the native WebRTC stack. */
  peers: number;
  /** Native tracks and channels closed but not yet reported closed by the stack. */
  closing: number;
}

export interface ServerMetricsOptions {
  /** Read at scrape time for `sightline_pool_queue_*`. */
  poolQueue?: () => PoolQueueStats;
  /** Node's process metrics (CPU, memory, GC, event-loop lag `nodejs_eventloop_lag_*`); default true. */
  defaultMetrics?: boolean;
  /** Read at scrape time for `sightline_video_*_total`: the engine's receive-path totals, where it has them. */
  videoReceive?: () => VideoReceiveTotals;
  /** Read at scrape time: the engine's send-path totals (video back, WHEP), where it has them. */
  videoSend?: () => VideoSendTotals;
  /** Read at scrape time for `sightline_process_threads` and `sightline_native_*`. */
  nativeResources?: () => NativeResources;
  /** Read at scrape time for `sightline_history_*`: the history store's write side. */
  history?: () => HistoryStats;
}

/** The history store's write side (`SessionStore.stats()` fits). */
export interface HistoryStats {
  written: number;
  dropped: number;
  orphaned: number;
  errors: number;
  pending: number;
}

const HISTORY_COUNTERS: Array<[keyof HistoryStats, string, string]> = [
  ['written', 'sightline_history_rows_written_total', 'History rows (sessions, params, results, events) written to the database'],
  [
    'dropped',
    'sightline_history_rows_dropped_total',
    'History rows lost: refused while the write buffer was full (database down or too slow), refused by the database, or unwritten at close',
  ],
  ['orphaned', 'sightline_history_rows_orphaned_total', 'History rows of a session whose start was never written (skipped)'],
  ['errors', 'sightline_history_flush_errors_total', 'Failed history flushes (their rows stay buffered for the next)'],
];

/** Send-path totals of every outgoing video track since the process started (the ndc engine counts them). */
export interface VideoSendTotals {
  framesSent: number;
  keyframes: number;
  nacksReceived: number;
  packetsRetransmitted: number;
  plisReceived: number;
}

const VIDEO_SEND_COUNTERS: Array<[keyof VideoSendTotals, string, string]> = [
  ['framesSent', 'sightline_video_frames_sent_total', 'Video frames encoded and sent (video back, WHEP viewers)'],
  ['keyframes', 'sightline_video_keyframes_sent_total', 'Keyframes sent (the first of a track, after a PLI/FIR or a size change)'],
  ['nacksReceived', 'sightline_video_nacks_received_total', 'NACKs received from viewers'],
  ['packetsRetransmitted', 'sightline_video_packets_retransmitted_total', 'Packets resent on a NACK'],
  ['plisReceived', 'sightline_video_plis_received_total', 'Keyframe requests (PLI) received from viewers'],
];

/** Receive-path totals of every video track since the process started (the ndc engine counts them). */
export interface VideoReceiveTotals {
  packets: number;
  retransmissions: number;
  nacks: number;
  plis: number;
  framesDecoded: number;
  framesDropped: number;
  decodeErrors: number;
}

const VIDEO_COUNTERS: Array<[keyof VideoReceiveTotals, string, string]> = [
  ['packets', 'sightline_video_packets_received_total', 'RTP packets received on video tracks (retransmissions included)'],
  ['retransmissions', 'sightline_video_retransmissions_received_total', 'Retransmitted packets (RTX) received on video tracks'],
  ['nacks', 'sightline_video_nacks_sent_total', 'NACK packets sent to video senders (each asks for one or more lost packets)'],
  ['plis', 'sightline_video_plis_sent_total', 'Keyframe requests (PLI) sent to video senders'],
  ['framesDecoded', 'sightline_video_frames_decoded_total', 'Video frames decoded'],
  ['framesDropped', 'sightline_video_frames_undecodable_total', 'Video frames not decoded: packets lost for good, or waiting for a keyframe after that'],
  ['decodeErrors', 'sightline_video_decode_errors_total', 'Video frames the decoder failed on (a keyframe is requested)'],
];

/** Latency buckets (seconds) for 1 ms – 2 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2];

const FRAME_COUNTERS: Array<[TalliedField, string, string]> = [
  ['frames_received', 'sightline_frames_received_total', 'Frames received (decoded from a track, or JPEG/WebP frames incl. rejected ones), by processor'],
  ['frames_processed', 'sightline_frames_processed_total', 'Frames processed (one result each), by processor'],
  ['frames_dropped', 'sightline_frames_dropped_total', 'Frames replaced by a newer one before processing, by processor'],
  ['frames_rejected', 'sightline_frames_rejected_total', 'JPEG/WebP frames refused (malformed, too large, not an image), by processor'],
  ['results_sent', 'sightline_results_sent_total', 'Results delivered to a channel or a watcher, by processor'],
  [
    'results_undelivered',
    'sightline_results_undelivered_total',
    'Results that reached nobody (no open channel under the buffer limit, no watcher), by processor',
  ],
];

const KNOWN_CODES = new Set<string>(ErrorCode.options);

/**
 * The server's Prometheus metrics, in a registry of their own.
 *
 * Design: frame and result counters are collected at scrape time from session summaries (live sessions' plus the
 * final ones of ended sessions, see SessionTally) rather than incremented per frame. The per-frame path costs nothing,
 * and the counters are the very numbers a session's `DELETE` summary reports, so they match what clients sent.
 * Only what summaries lack is counted as it happens, in `onMessage`: latency histograms (per result), errors by code
 * and audio events by type — a switch and one prom-client call per message.
 */
/** Counters that report process totals kept elsewhere (the engine's), read at scrape time. */
function totalsCounters<T>(list: Array<[keyof T, string, string]>, read: () => T, registers: Registry[]): void {
  for (const [field, name, help] of list) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(Number(read()[field]));
      },
    });
  }
}

export class ServerMetrics implements SessionObserver {
  readonly registry = new Registry();
  readonly #live = new Map<string, { transport: Transport; source: SessionSource }>();
  readonly #tally = new SessionTally();
  readonly #sessionsTotal: Counter<'transport' | 'end_reason'>;
  readonly #inference: Histogram<'processor'>;
  readonly #total: Histogram<'processor'>;
  readonly #errors: Counter<'code'>;
  readonly #audio: Counter<'type'>;
  readonly #workerDeaths: Counter<'pool'>;

  constructor(opts: ServerMetricsOptions = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const live = this.#live;
    new Gauge({
      name: 'sightline_sessions_active',
      help: 'Sessions now live, by transport',
      labelNames: ['transport'],
      registers,
      collect() {
        const n = new Map<Transport, number>(TRANSPORTS.map((t) => [t, 0]));
        for (const s of live.values()) n.set(s.transport, (n.get(s.transport) ?? 0) + 1);
        for (const [transport, v] of n) this.set({ transport }, v);
      },
    });
    this.#sessionsTotal = new Counter({
      name: 'sightline_sessions_total',
      help: 'Sessions ended, by transport and end reason',
      labelNames: ['transport', 'end_reason'],
      registers,
    });
    for (const [field, name, help] of FRAME_COUNTERS) {
      const sync = (): void => this.#syncLive();
      const byProcessor = this.#tally.byProcessor;
      new Counter({
        name,
        help,
        labelNames: ['processor'],
        registers,
        collect() {
          sync();
          this.reset();
          for (const [processor, t] of byProcessor) this.inc({ processor }, t[field]);
        },
      });
    }
    const histogram = (name: string, help: string) => new Histogram({ name, help, labelNames: ['processor'], buckets: LATENCY_BUCKETS, registers });
    this.#inference = histogram('sightline_inference_seconds', "Server-side processing time of a frame (the result's timing.inference_ms), by processor");
    this.#total = histogram('sightline_frame_total_seconds', "Frame enqueued to result ready on the server (the result's timing.total_ms), by processor");
    this.#errors = new Counter({ name: 'sightline_errors_total', help: 'Error messages and HTTP error bodies sent, by code', labelNames: ['code'], registers });
    this.#audio = new Counter({ name: 'sightline_audio_events_total', help: 'Audio processor messages sent, by type', labelNames: ['type'], registers });
    this.#workerDeaths = new Counter({
      name: 'sightline_worker_deaths_total',
      help: 'Worker threads that died or failed to start (each is replaced), by pool',
      labelNames: ['pool'],
      registers,
    });
    if (opts.videoReceive) totalsCounters(VIDEO_COUNTERS, opts.videoReceive, registers);
    if (opts.videoSend) totalsCounters(VIDEO_SEND_COUNTERS, opts.videoSend, registers);
    const native = opts.nativeResources;
    if (native) {
      const gauge = (name: string, help: string, read: (n: NativeResources) => number | undefined) =>
        new Gauge({
          name,
          help,
          registers,
          collect() {
            const v = read(native());
            if (v !== undefined) this.set(v);
          },
        });
      gauge('sightline_process_threads', 'Threads of the server process (process_open_fds and process_max_fds count descriptors)', (n) => n.threads);
      gauge('sightline_native_peers', 'Peer connections open in the native WebRTC stack (sessions and WHEP viewers)', (n) => n.peers);
      gauge('sightline_native_objects_closing', 'Native tracks and DataChannels closed but not yet reported closed', (n) => n.closing);
    }
    const history = opts.history;
    if (history) {
      totalsCounters(HISTORY_COUNTERS, history, registers);
      new Gauge({
        name: 'sightline_history_rows_pending',
        help: 'History rows buffered or being written (bounded: beyond the bound they are dropped, and counted)',
        registers,
        collect() {
          this.set(history().pending);
        },
      });
    }
    const poolQueue = opts.poolQueue;
    if (poolQueue) {
      const gauge = (name: string, help: string, read: (q: PoolQueueStats) => number) =>
        new Gauge({
          name,
          help,
          registers,
          collect() {
            this.set(read(poolQueue()));
          },
        });
      gauge('sightline_pool_queue_depth', 'Inference requests waiting for a worker', (q) => q.depth);
      gauge('sightline_pool_queue_age_seconds', 'Age of the oldest inference request waiting for a worker (0 when none)', (q) => q.oldestAgeMs / 1000);
      gauge('sightline_pool_pending', 'Inference requests waiting or running', (q) => q.pending ?? 0);
      gauge('sightline_pool_wait_seconds', 'Recent wait of inference requests for a worker (decaying average)', (q) => (q.waitMs ?? 0) / 1000);
    }
  }

  /** As a session observer: live sessions, their end and every message they send. */
  sessionStarted(s: SessionInfo, live: LiveSession): void {
    this.onSessionStart(s.transport as Transport, { id: s.id, summary: () => live.summary() });
  }

  sessionEnded(_s: SessionInfo, summary: SessionSummary): void {
    this.onSessionEnd(summary);
  }

  messageSent(_s: SessionInfo, msg: ServerMessage): void {
    this.onMessage(msg);
  }

  /** A session opened (after its answer): counted live until `onSessionEnd`; its counters are read at each scrape. */
  onSessionStart(transport: Transport, session: SessionSource): void {
    this.#live.set(session.id, { transport, source: session });
  }

  /** A session ended, with its final summary (SessionManager's `onSessionEnd`). Sessions not started here, or already ended, are ignored. */
  onSessionEnd(summary: SessionSummary): void {
    const live = this.#live.get(summary.session_id);
    if (!live) return;
    this.#live.delete(summary.session_id);
    this.#tally.update(summary, true);
    this.#sessionsTotal.inc({ transport: live.transport, end_reason: summary.end_reason ?? 'unknown' });
  }

  /** Every message a session sends (its `#deliver`): results feed the histograms, errors and audio events counters. */
  onMessage(msg: ServerMessage): void {
    switch (msg.type) {
      case 'result':
        return this.onResult(msg);
      case 'error':
        return this.onError(msg.code);
      case 'speech_start':
      case 'speech_end':
      case 'audio_level':
        this.#audio.inc({ type: msg.type });
        return;
      default:
        return;
    }
  }

  /** One result: its server-side timings into the histograms. */
  onResult(msg: ResultMessage): void {
    this.#inference.observe({ processor: msg.processor }, msg.timing.inference_ms / 1000);
    this.#total.observe({ processor: msg.processor }, msg.timing.total_ms / 1000);
  }

  /** An error sent outside a session's messages (HTTP error bodies, WebSocket refusals). Unknown codes count as `other`. */
  onError(code: string): void {
    this.#errors.inc({ code: KNOWN_CODES.has(code) ? code : 'other' });
  }

  /** A worker thread of `pool` died or failed to start. */
  onWorkerDied(pool: 'inference' | 'vad'): void {
    this.#workerDeaths.inc({ pool });
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Live sessions' growth since the last scrape into the tally (idempotent: a second call adds nothing). */
  #syncLive(): void {
    for (const { source } of this.#live.values()) this.#tally.update(source.summary());
  }
}
