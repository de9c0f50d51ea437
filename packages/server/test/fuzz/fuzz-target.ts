/**
 * What a fuzz target is and how one runs: a fast-check property, checked `runs` times from a seed, with a tally of
 * what the inputs earned (accepted, refused, documented 5xx, known issues) and every failure — a property that
 * threw, shrunk to its smallest input, an exception the process would have died of, native peer connections left
 * open, a server no longer healthy — reported instead of thrown, so the runner can go on to the next target and print
 * one table.
 */
import fc from 'fast-check';
import { FuzzServer } from './fuzz-server.js';

export interface FuzzOptions {
  /** Inputs to try. */
  runs: number;
  /** fast-check's seed; random when absent (the report says which one ran). */
  seed?: number;
  /** A shared in-process server for the HTTP and WebSocket targets; one is started (and closed) when absent. */
  server?: FuzzServer;
}

export interface FuzzReport {
  target: string;
  runs: number;
  seed: number;
  /** 2xx answers, or a parser's value. */
  accepted: number;
  /** 4xx answers, or a parser's documented error. */
  rejected: number;
  /** 5xx answers the route documents as a refusal (503 at capacity, 501 not implemented). */
  refused5xx: number;
  /** Known, reported issues seen (not failures): issue id → times. */
  known: Record<string, number>;
  /** Outcomes by name (status and code…). */
  outcomes: Record<string, number>;
  /** Each failure: the shrunk counterexample and what went wrong, or an uncaught exception. */
  failures: string[];
  ms: number;
}

export type FuzzTarget = ((opts: FuzzOptions) => Promise<FuzzReport>) & { readonly targetName: string };

/** Counts outcomes; frozen at the first failure so that shrinking does not inflate the counts. */
export class Tally {
  accepted = 0;
  rejected = 0;
  refused5xx = 0;
  readonly known: Record<string, number> = {};
  /** Outcomes by name (HTTP status and error code, parser result…), for tuning generators (`FUZZ_VERBOSE=1`). */
  readonly outcomes: Record<string, number> = {};
  #frozen = false;

  saw(outcome: string): void {
    if (!this.#frozen) this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
  }

  accept(): void {
    if (!this.#frozen) this.accepted++;
  }
  reject(): void {
    if (!this.#frozen) this.rejected++;
  }
  refuse5xx(): void {
    if (!this.#frozen) this.refused5xx++;
  }
  sawKnown(id: string): void {
    if (!this.#frozen) this.known[id] = (this.known[id] ?? 0) + 1;
  }
  freeze(): void {
    this.#frozen = true;
  }
}

export interface TargetEnv {
  tally: Tally;
  /** The in-process server (targets declared with `server: true` only). */
  server: FuzzServer;
}

export interface TargetPlan {
  /** The property: it throws (or rejects) on any violation. */
  property: fc.IRawProperty<any>;
  /** After the runs: extra checks (no session left behind…); returns failure messages. */
  after?: () => Promise<string[]> | string[];
  /** Frees what the plan made. */
  close?: () => Promise<void> | void;
}

/** Longest failure message kept (a counterexample SDP can be long). */
const MAX_FAILURE_CHARS = 6000;

/**
 * Declares a target: `plan` builds the property (and its checks) for one run of the target. The target needs the
 * in-process server when `server` is true; it uses `opts.server` or starts its own.
 */
export function fuzzTarget(name: string, needs: { server: boolean }, plan: (env: TargetEnv) => Promise<TargetPlan>): FuzzTarget {
  const run = async (opts: FuzzOptions): Promise<FuzzReport> => {
    const started = performance.now();
    const seed = opts.seed ?? (Math.random() * 2 ** 31) | 0;
    const tally = new Tally();
    const failures: string[] = [];
    // A throw or rejection nobody handles would end the process: record it as this target's failure instead.
    const onUncaught = (err: unknown, origin: string): void => {
      failures.push(`${origin} during the run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`.slice(0, MAX_FAILURE_CHARS));
    };
    const onRejection = (reason: unknown): void => onUncaught(reason, 'unhandledRejection');
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onRejection);
    const ownServer = needs.server && !opts.server ? await FuzzServer.start() : undefined;
    const server = opts.server ?? ownServer;
    let runs = 0;
    try {
      const peersBefore = server?.strayPeers ?? 0;
      const p = await plan({ tally, server: server! });
      try {
        const details = await fc.check(p.property, {
          numRuns: opts.runs,
          seed,
          // Shrinking replays the property many times (each an HTTP request or a WebSocket session): bounded.
          interruptAfterTimeLimit: Math.max(60_000, opts.runs * 200),
          markInterruptAsFailure: false,
        });
        runs = details.numRuns;
        if (details.failed) {
          tally.freeze();
          failures.push(describeFailure(details));
        }
        failures.push(...(await (p.after?.() ?? [])));
      } finally {
        await p.close?.();
      }
      if (server) {
        // Every native peer connection the target's inputs made is closed once their sessions and viewers ended.
        server.endOpened();
        const until = Date.now() + 5000;
        while (server.strayPeers > peersBefore && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
        if (server.strayPeers > peersBefore) failures.push(`${server.strayPeers - peersBefore} native peer connections are still open after the target`);
        if (!(await server.healthy())) failures.push('the server no longer answers GET /healthz with 200');
      }
    } catch (err) {
      failures.push(`the target itself failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`.slice(0, MAX_FAILURE_CHARS));
    } finally {
      await ownServer?.close();
      // Let late callbacks of this target (timers, sockets closing) land while the listeners still count them.
      await new Promise((r) => setTimeout(r, 50));
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onRejection);
    }
    return {
      target: name,
      runs,
      seed,
      accepted: tally.accepted,
      rejected: tally.rejected,
      refused5xx: tally.refused5xx,
      known: tally.known,
      outcomes: tally.outcomes,
      failures,
      ms: Math.round(performance.now() - started),
    };
  };
  return Object.assign(run, { targetName: name });
}

/** A failed check, error first (the counterexample can be long), then the input shortened, and how to replay it. */
function describeFailure(details: fc.RunDetails<any>): string {
  const err = details.errorInstance;
  const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
  const input = details.counterexample ? fc.stringify(details.counterexample) : '(none)';
  const shownInput = input.length > 3000 ? `${input.slice(0, 3000)}… (${input.length} characters)` : input;
  return [
    `error: ${error.slice(0, 2000)}`,
    `input: ${shownInput}`,
    `replay: seed ${details.seed}, path "${details.counterexamplePath ?? ''}" (after ${details.numRuns} runs, shrunk ${details.numShrinks} times)`,
  ].join('\n');
}

/** The fuzz property's own assertion: throws with `message` (and the offending value, shortened) when `ok` is false. */
export function expect(ok: boolean, message: string, value?: unknown): asserts ok {
  if (ok) return;
  const shown = value === undefined ? '' : `: ${typeof value === 'string' ? JSON.stringify(value.slice(0, 500)) : fc.stringify(value).slice(0, 500)}`;
  throw new Error(`${message}${shown}`);
}
