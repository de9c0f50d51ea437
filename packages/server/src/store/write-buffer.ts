/**
 * Batched writes, off the hot path.
 *
 * `push` only appends to an array (O(1), no await, no throw). A timer drains the buffer every `flushIntervalMs`, and
 * a drain also starts (on the next turn of the event loop) once `flushAtRows` rows wait. A drain writes chunks of at
 * most `maxBatchRows` rows, ONE transaction per chunk, chunks one after another in recorded order, yielding to the
 * event loop between chunks. Durability: a crash (kill -9, power loss with SQLite's synchronous=NORMAL aside) loses
 * at most the rows recorded since the last committed flush — about one interval — and never leaves a partial chunk.
 *
 * Bounds: results and events are refused (and counted in `dropped`) while `maxPending` rows are buffered or being
 * written; session start/params/end rows are always kept (a few per session). A failed chunk (database down) stays
 * at the head of the buffer for the next drain and counts in `errors`; nothing throws into the server. A chunk the
 * database refuses for its data (`isPermanent`) is split in halves until the bad row is alone; that row is dropped.
 * If a COMMIT fails ambiguously (connection lost after the server committed), the retry may write a chunk twice.
 */
import { type BatchOutcome, type PendingRow, isBulk } from './pending-rows.js';
import type { StoreStats } from './store.js';

export interface BatchWriter {
  /** Writes the rows in one transaction, all or nothing. */
  write(rows: readonly PendingRow[]): Promise<BatchOutcome>;
  /** True when retrying this error with the same rows cannot succeed (bad data, not a lost connection). */
  isPermanent(err: unknown): boolean;
}

export interface WriteBufferOptions {
  /** The server writing (`--node-id`), stored with each session it starts. Default: none (null). */
  nodeId?: string;
  /** Default 1000. */
  flushIntervalMs?: number;
  /** Buffered results+events beyond which new ones are dropped. Default 100 000. */
  maxPending?: number;
  /** A drain starts early once this many rows wait. Default 5000. */
  flushAtRows?: number;
  /** Rows per transaction. Default 5000. */
  maxBatchRows?: number;
  /** After each committed chunk (e.g. metrics). */
  onFlush?: (info: { rows: number; ms: number; stats: StoreStats }) => void;
  /** After each failed chunk (e.g. a rate-limited log line). */
  onError?: (err: unknown) => void;
}

export class WriteBuffer {
  private buf: PendingRow[] = [];
  private inFlight = 0;
  private chain: Promise<void> = Promise.resolve();
  private draining = false;
  private earlyScheduled = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly s: StoreStats = { written: 0, dropped: 0, orphaned: 0, flushes: 0, lastFlushMs: 0, pending: 0, errors: 0, lastError: null };
  private readonly maxPending: number;
  private readonly flushAtRows: number;
  private readonly maxBatchRows: number;

  constructor(
    private readonly writer: BatchWriter,
    private readonly opts: WriteBufferOptions = {},
  ) {
    this.maxPending = opts.maxPending ?? 100_000;
    this.flushAtRows = opts.flushAtRows ?? 5000;
    this.maxBatchRows = Math.max(1, opts.maxBatchRows ?? 5000);
    this.timer = setInterval(() => {
      if (!this.draining && this.buf.length > 0) void this.flush();
    }, opts.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  push(row: PendingRow): void {
    if (this.closed || (isBulk(row) && this.buf.length + this.inFlight >= this.maxPending)) {
      this.s.dropped++;
      return;
    }
    this.buf.push(row);
    if (this.buf.length >= this.flushAtRows && !this.draining && !this.earlyScheduled) {
      this.earlyScheduled = true;
      setImmediate(() => {
        this.earlyScheduled = false;
        if (!this.draining) void this.flush();
      });
    }
  }

  /** A row refused before buffering (e.g. JSON that does not serialise). */
  countDropped(): void {
    this.s.dropped++;
  }

  /** Drains every row buffered now (after any drain already running). Never rejects. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.drain());
    return this.chain;
  }

  /** Stops the timer and drains; whatever could not be written counts as dropped. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
    this.s.dropped += this.buf.length;
    this.buf = [];
  }

  stats(): StoreStats {
    return { ...this.s, pending: this.buf.length + this.inFlight };
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      let first = true;
      while (this.buf.length > 0) {
        if (!first) await new Promise<void>((r) => setImmediate(r));
        first = false;
        const chunk = this.buf.length <= this.maxBatchRows ? this.buf : this.buf.slice(0, this.maxBatchRows);
        this.buf = chunk === this.buf ? [] : this.buf.slice(chunk.length);
        this.inFlight = chunk.length;
        const done = await this.writeChunk(chunk);
        this.inFlight = 0;
        if (done < chunk.length) {
          // Not written: back to the head of the buffer, in order, for the next drain.
          this.buf = chunk.slice(done).concat(this.buf);
          return;
        }
      }
    } finally {
      this.inFlight = 0;
      this.draining = false;
    }
  }

  /** Writes a chunk, splitting it around rows the database refuses; returns how many leading rows are done. */
  private async writeChunk(chunk: PendingRow[]): Promise<number> {
    const segments: PendingRow[][] = [chunk];
    let done = 0;
    while (segments.length > 0) {
      const seg = segments.shift()!;
      const t0 = performance.now();
      try {
        const out = await this.writer.write(seg);
        const ms = performance.now() - t0;
        this.s.written += out.written;
        this.s.orphaned += out.orphaned;
        this.s.flushes++;
        this.s.lastFlushMs = ms;
        done += seg.length;
        try {
          this.opts.onFlush?.({ rows: seg.length, ms, stats: this.stats() });
        } catch {
          // a callback's failure is not the store's
        }
      } catch (err) {
        this.s.errors++;
        this.s.lastError = err instanceof Error ? err.message : String(err);
        try {
          this.opts.onError?.(err);
        } catch {
          // idem
        }
        if (!this.writer.isPermanent(err)) return done;
        if (seg.length === 1) {
          this.s.dropped++;
          done++;
          continue;
        }
        const mid = seg.length >> 1;
        segments.unshift(seg.slice(0, mid), seg.slice(mid));
      }
    }
    return done;
  }
}

/** JSON text of a value, or undefined when it does not serialise (cycles, BigInt): the caller drops the row. */
export function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return undefined;
  }
}
