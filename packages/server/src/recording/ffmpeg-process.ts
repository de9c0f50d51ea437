import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/** How an ffmpeg run ended. */
export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when it had to be killed after the stop timeout. */
  killed: boolean;
  /** Set when it failed (non-zero exit, signal, kill, spawn or pipe error), with the tail of its stderr. */
  error?: string;
  stderrTail: string;
}

/** Keep this much of ffmpeg's stderr. */
const STDERR_TAIL = 4096;

/**
 * One ffmpeg child reading from stdin: started with `start()` (rejects with a clear error when the binary cannot be
 * run), stdin errors (EPIPE after a crash) caught and remembered, the last few KB of stderr kept, and `stop()` that
 * ends stdin and waits a bounded time before SIGKILL. Never throws after start.
 */
export class FfmpegProcess {
  readonly #child: ChildProcessByStdio<Writable, null, Readable>;
  readonly #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = '';
  #pipeError: string | undefined;
  #exited = false;
  #killed = false;

  private constructor(child: ChildProcessByStdio<Writable, null, Readable>) {
    this.#child = child;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-STDERR_TAIL);
    });
    child.stdin.on('error', (e: Error) => {
      this.#pipeError ??= e.message;
    });
    this.#exit = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.#exited = true;
        resolve({ code, signal });
      });
    });
  }

  /** Spawns `path` with `args`; resolves once the process runs. */
  static start(path: string, args: string[]): Promise<FfmpegProcess> {
    return new Promise((resolve, reject) => {
      const child = spawn(path, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      child.once('error', (e: NodeJS.ErrnoException) => {
        const hint = e.code === 'ENOENT' ? ' (is ffmpeg installed? Debian: apt-get install ffmpeg)' : '';
        reject(new Error(`cannot run ffmpeg at '${path}': ${e.message}${hint}`));
      });
      child.once('spawn', () => resolve(new FfmpegProcess(child)));
    });
  }

  /** Resolves when the process has exited (for whatever reason). */
  get exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exit;
  }

  /** The last few KB of what ffmpeg wrote to stderr. */
  get stderrTail(): string {
    return this.#stderr.trim();
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** False once ffmpeg has exited or its stdin failed: writing is pointless. */
  get writable(): boolean {
    return !this.#exited && this.#pipeError === undefined && this.#child.stdin.writable;
  }

  /** Bytes accepted by `write` that the pipe has not taken yet. */
  get pendingBytes(): number {
    return this.#child.stdin.writableLength;
  }

  /** Queues bytes for ffmpeg's stdin (fire and forget); `done` runs once the pipe has taken them, or failed. */
  write(buf: Buffer, done?: () => void): void {
    this.#child.stdin.write(buf, done && (() => done()));
  }

  /** Ends stdin and waits for the exit; after `timeoutMs` it kills ffmpeg (SIGKILL). `discard` kills at once. */
  async stop(timeoutMs: number, discard = false): Promise<FfmpegExit> {
    if (discard) this.#kill();
    else if (!this.#exited) this.#child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    const done = await Promise.race([this.#exit, timeout.then(() => undefined)]);
    clearTimeout(timer);
    const { code, signal } = done ?? (this.#kill(), await this.#exit);
    const stderrTail = this.stderrTail;
    const exit: FfmpegExit = { code, signal, killed: this.#killed, stderrTail };
    if (discard) return exit;
    if (this.#killed) exit.error = `ffmpeg did not finish within ${timeoutMs} ms and was killed`;
    else if (code !== 0) exit.error = `ffmpeg exited with ${code ?? signal}`;
    else if (this.#pipeError) exit.error = `writing to ffmpeg failed: ${this.#pipeError}`;
    if (exit.error && stderrTail) exit.error += `: ${stderrTail}`;
    return exit;
  }

  #kill(): void {
    if (this.#exited) return;
    this.#killed = true;
    this.#child.kill('SIGKILL');
  }
}
