import { readdirSync, readFileSync } from 'node:fs';

/**
 * What this process holds of the operating system's per-process resources (Linux /proc; undefined elsewhere): open
 * file descriptors, threads, and the soft limit on descriptors. Every WebRTC peer connection costs descriptors (its
 * UDP sockets) and the native stack runs threads of its own.
 */
export function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

export function threadCount(): number | undefined {
  try {
    const n = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return n === undefined ? undefined : Number(n);
  } catch {
    return undefined;
  }
}

/** The soft limit on open descriptors (`ulimit -n`); undefined when unlimited or unknown. */
export function fdLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m === null || m[1] === 'unlimited' ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * Admission by file descriptors, read once at start: a new peer connection is refused (the caller answers 503
 * `at_capacity`) while the descriptors in use are within `reserve` of the limit, so that running out happens in a
 * clear refusal and never inside native code, where it aborts the process.
 */
export class FdBudget {
  readonly limit: number | undefined;
  readonly reserve: number;

  constructor(limit: number | undefined = fdLimit(), reserve?: number) {
    this.limit = limit;
    // A peer takes a few descriptors; the server needs some for HTTP, the database, recordings and workers.
    this.reserve = reserve ?? Math.max(48, Math.floor((limit ?? 0) * 0.1));
  }

  /** Why a new peer connection must be refused now, or undefined when it fits. */
  refusal(): string | undefined {
    if (this.limit === undefined) return undefined;
    const used = openFds();
    if (used === undefined || used + this.reserve <= this.limit) return undefined;
    return `server at capacity: ${used} of ${this.limit} file descriptors in use, ${this.reserve} kept in reserve; try again later or raise the limit (ulimit -n)`;
  }
}
