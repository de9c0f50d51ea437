import type { ClusterNode } from '@sightline/protocol';
import { SightlineError } from '../errors.js';

/** How long a node answers a DELETE of a session that ended with its final counters (and is named its owner). */
export const ENDED_SESSION_KEEP_MS = 10 * 60_000;

/** What a node says of itself at every heartbeat (and what `/v1/cluster` lists). */
export interface NodeReport {
  ready: boolean;
  draining: boolean;
  sessions: number;
  maxSessions: number;
  inferenceWaitMs: number;
}

/** Where a session lives: its node and how the other nodes reach it. */
export interface SessionOwner {
  nodeId: string;
  url: string;
}

/**
 * The state media nodes share: which nodes are up, which node holds each session, and how many sessions each key has
 * across all of them. `SoloFleet` is a lone server; `RedisFleet` is many sharing Redis. The session manager asks it
 * before a session starts (`admit`) and tells it when one ends (`release`); the HTTP layer asks it where a session it
 * does not hold lives (`ownerOf`) to forward the request there.
 */
export interface Fleet {
  readonly mode: 'single' | 'redis';
  readonly nodeId: string;
  /**
   * Takes a slot of `keyId` for `sessionId` (and records this node as its owner) unless the key already holds
   * `maxSessions` across the fleet: false then. Throws FleetUnavailableError when the shared state can't be reached.
   */
  admit(keyId: string, sessionId: string, maxSessions: number | undefined): Promise<boolean>;
  /** Gives the slot back: the session ended, or never started. */
  release(keyId: string, sessionId: string): void;
  /** The node holding a session this node does not hold; undefined when no live node does. */
  ownerOf(sessionId: string): Promise<SessionOwner | undefined>;
  /** Live nodes, this one included. */
  nodes(): Promise<ClusterNode[]>;
  /** Live sessions across the fleet, in all and of one key. */
  sessionCounts(keyId: string): Promise<{ all: number; key: number }>;
  close(): Promise<void>;
}

/** Redis (or whatever holds the fleet's state) can't be reached: new sessions are refused, live ones go on. */
export class FleetUnavailableError extends SightlineError {
  constructor(message: string) {
    super('not_ready', message, { 'retry-after': '2' });
    this.name = 'FleetUnavailableError';
  }
}

export function clusterNode(nodeId: string, url: string, startedAt: string, r: NodeReport, seenMsAgo: number): ClusterNode {
  return {
    node_id: nodeId,
    url,
    ready: r.ready,
    draining: r.draining,
    sessions: r.sessions,
    max_sessions: r.maxSessions,
    inference_wait_ms: Math.round(r.inferenceWaitMs * 10) / 10,
    started_at: startedAt,
    seen_ms_ago: seenMsAgo,
  };
}

/** A server on its own: its limits are its own counts (the session manager's), and every session is here. */
export class SoloFleet implements Fleet {
  readonly mode = 'single';
  readonly #startedAt = new Date().toISOString();
  readonly #byKey = new Map<string, Set<string>>();

  constructor(
    readonly nodeId: string,
    readonly url: string,
    readonly report: () => NodeReport,
  ) {}

  async admit(keyId: string, sessionId: string, maxSessions: number | undefined): Promise<boolean> {
    const mine = this.#byKey.get(keyId) ?? new Set<string>();
    if (maxSessions !== undefined && mine.size >= maxSessions) return false;
    mine.add(sessionId);
    this.#byKey.set(keyId, mine);
    return true;
  }

  release(keyId: string, sessionId: string): void {
    const mine = this.#byKey.get(keyId);
    mine?.delete(sessionId);
    if (mine?.size === 0) this.#byKey.delete(keyId);
  }

  async ownerOf(): Promise<SessionOwner | undefined> {
    return undefined;
  }

  async nodes(): Promise<ClusterNode[]> {
    return [clusterNode(this.nodeId, this.url, this.#startedAt, this.report(), 0)];
  }

  async sessionCounts(keyId: string): Promise<{ all: number; key: number }> {
    let all = 0;
    for (const s of this.#byKey.values()) all += s.size;
    return { all, key: this.#byKey.get(keyId)?.size ?? 0 };
  }

  async close(): Promise<void> {}
}
