import { Redis } from 'ioredis';
import type { ClusterNode } from '@sightline/protocol';
import { clusterNode, ENDED_SESSION_KEEP_MS, FleetUnavailableError, type Fleet, type NodeReport, type SessionOwner } from './fleet.js';

export interface RedisFleetOptions {
  url: string;
  nodeId: string;
  /** Where the other nodes reach this one over HTTP. */
  advertiseUrl: string;
  /** This node's state, read at every heartbeat. */
  report: () => NodeReport;
  /**
   * How long a session's lease (its key's slot and its directory entry) outlives the last renewal: a node that dies
   * gives its keys' slots back within this. Renewed every fifth of it.
   */
  leaseMs: number;
  /** How often the node reports itself; it is gone from the list after three silent periods (default 1000). */
  heartbeatMs?: number;
  /** Told of failed heartbeats (Redis unreachable), at most once per failure streak. */
  onError?: (err: Error) => void;
}

const PREFIX = 'sightline:';
const NODES = `${PREFIX}nodes`;
const nodeKey = (id: string): string => `${PREFIX}node:${id}`;
const sessionKey = (id: string): string => `${PREFIX}session:${id}`;
const keySessions = (keyId: string): string => `${PREFIX}key:${keyId}:sessions`;
const ALL_SESSIONS = `${PREFIX}sessions`;

/**
 * Takes a key's slot atomically: drops expired leases, refuses at the limit, else adds the lease and the directory
 * entry. Redis's clock, not the nodes', dates every lease, so nodes with skewed clocks agree on what has expired.
 * KEYS: the key's lease set, the fleet's lease set, the session's directory entry.
 * ARGV: session id, max sessions (-1: no limit), the directory entry (JSON), lease ms.
 */
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local max = tonumber(ARGV[2])
if max >= 0 and redis.call('ZCARD', KEYS[1]) >= max then return 0 end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease)
redis.call('ZADD', KEYS[2], now + lease, ARGV[1])
redis.call('SET', KEYS[3], ARGV[3], 'PX', lease)
return 1`;

/**
 * Renews this node's leases: ARGV = its directory entry (JSON), lease ms, then (key lease set, session id) pairs. A lease that expired
 * meanwhile (Redis unreachable for longer than a lease) is taken again, even over the key's limit: the session is live.
 */
const RENEW = `
local t = redis.call('TIME')
local until_ = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  redis.call('ZADD', ARGV[i], until_, ARGV[i + 1])
  redis.call('PEXPIRE', ARGV[i], ARGV[2])
  redis.call('ZADD', KEYS[1], until_, ARGV[i + 1])
  redis.call('SET', 'sightline:session:' .. ARGV[i + 1], ARGV[1], 'PX', ARGV[2])
end
return 1`;

/** Counts live leases of the fleet and of one key. KEYS: the fleet's lease set, the key's. */
const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return { redis.call('ZCOUNT', KEYS[1], now, '+inf'), redis.call('ZCOUNT', KEYS[2], now, '+inf') }`;

/** `sightline:session:{id}`: the node holding the session, where it is reached, and whether the session ended. */
interface DirectoryEntry {
  node: string;
  url: string;
  ended?: true;
}

interface StoredNode {
  url: string;
  startedAt: string;
  at: number;
  report: NodeReport;
}

/**
 * Media nodes sharing one Redis. Each node writes `sightline:node:{id}` (its URL and load) every heartbeat with a TTL
 * of three heartbeats; each session holds a lease in its key's sorted set (`sightline:key:{key}:sessions`, member =
 * session id, score = expiry) and a directory entry (`sightline:session:{id}` → the node and its URL), both renewed by its node.
 * Nothing is ever deleted by another node: what a dead node held expires.
 */
export class RedisFleet implements Fleet {
  readonly mode = 'redis';
  readonly nodeId: string;
  readonly #opts: RedisFleetOptions;
  readonly #redis: Redis;
  readonly #startedAt = new Date().toISOString();
  /** This node's sessions: id → key id, renewed at every heartbeat. */
  readonly #mine = new Map<string, string>();
  readonly #timer: NodeJS.Timeout;
  #lastRenew = 0;
  #failing = false;
  #closed = false;

  private constructor(opts: RedisFleetOptions, redis: Redis) {
    this.#opts = opts;
    this.nodeId = opts.nodeId;
    this.#redis = redis;
    this.#timer = setInterval(() => void this.#beat(), opts.heartbeatMs ?? 1000);
    this.#timer.unref();
    // The first report goes once the caller has wired what `report` reads (the session manager is made after this).
    setImmediate(() => void this.#beat());
  }

  /** Connects; throws (with the reason) when Redis can't be reached at start. */
  static async open(opts: RedisFleetOptions): Promise<RedisFleet> {
    const redis = new Redis(opts.url, {
      // A command while Redis is away fails at once rather than waiting in a queue: an offer gets its 503 quickly.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 2000,
      connectTimeout: 3000,
      lazyConnect: true,
      retryStrategy: (n) => Math.min(2000, 100 * n),
      // A command cut off by a dropped connection fails; sent again after the reconnect, an admission the caller was
      // told had failed could take a slot after all.
      autoResendUnfulfilledCommands: false,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      throw new Error(`--redis-url: Redis can't be reached (${(err as Error).message})`, { cause: err });
    }
    return new RedisFleet(opts, redis);
  }

  async admit(keyId: string, sessionId: string, maxSessions: number | undefined): Promise<boolean> {
    let ok: unknown;
    try {
      ok = await this.#call(() =>
        this.#redis.eval(
          ADMIT,
          3,
          keySessions(keyId),
          ALL_SESSIONS,
          sessionKey(sessionId),
          sessionId,
          maxSessions ?? -1,
          this.#entry(false),
          this.#opts.leaseMs,
        ),
      );
    } catch (err) {
      // A timed-out call may still run on Redis (a reply that came too late): give back what it may have taken, so the
      // key's slot is not held for a lease by a session that never started.
      this.#forget(keyId, sessionId).catch(() => undefined);
      throw err;
    }
    if (ok !== 1) return false;
    this.#mine.set(sessionId, keyId);
    return true;
  }

  /** Takes a session's lease off its key and the fleet, and its directory entry. */
  #forget(keyId: string, sessionId: string): Promise<unknown> {
    return this.#redis.multi().zrem(keySessions(keyId), sessionId).zrem(ALL_SESSIONS, sessionId).del(sessionKey(sessionId)).exec();
  }

  /** A directory entry naming this node: its URL (so that forwarding needs no other lookup) and whether the session ended. */
  #entry(ended: boolean): string {
    const e: DirectoryEntry = { node: this.nodeId, url: this.#opts.advertiseUrl, ...(ended ? { ended: true } : {}) };
    return JSON.stringify(e);
  }

  release(keyId: string, sessionId: string): void {
    if (!this.#mine.delete(sessionId)) return;
    // The slot is free at once. The directory entry stays for as long as this node answers a DELETE of the ended
    // session with its final counters (10 minutes), so that such a DELETE reaching another node is forwarded here.
    // Best effort: if Redis is away now, the lease expires by itself.
    this.#redis
      .multi()
      .zrem(keySessions(keyId), sessionId)
      .zrem(ALL_SESSIONS, sessionId)
      .set(sessionKey(sessionId), this.#entry(true), 'PX', ENDED_SESSION_KEEP_MS)
      .exec()
      .catch(() => undefined);
  }

  /**
   * The node named by the session's directory entry. A live session's owner is named even when its report lapsed (a
   * stalled event loop, a blip in its Redis connection): forwarding then finds out, and a dead node's refusal is a
   * retryable 503, not a 404 for a session that may well be live. An ended session's entry counts only while its
   * node reports: a DELETE for the final counters of a dead node's session is a 404.
   */
  async ownerOf(sessionId: string): Promise<SessionOwner | undefined> {
    const raw = await this.#call(() => this.#redis.get(sessionKey(sessionId)));
    const entry = raw ? (JSON.parse(raw) as DirectoryEntry) : undefined;
    if (!entry || entry.node === this.nodeId) return undefined;
    if (entry.ended && (await this.#call(() => this.#redis.exists(nodeKey(entry.node)))) === 0) return undefined;
    return { nodeId: entry.node, url: entry.url };
  }

  async nodes(): Promise<ClusterNode[]> {
    const ids = await this.#call(() => this.#redis.smembers(NODES));
    if (ids.length === 0) return [];
    const raws = await this.#call(() => this.#redis.mget(...ids.map(nodeKey)));
    const now = Date.now();
    const out: ClusterNode[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const raw = raws[i];
      if (!raw) return void gone.push(id);
      const n = JSON.parse(raw) as StoredNode;
      out.push(clusterNode(id, n.url, n.startedAt, n.report, Math.max(0, now - n.at)));
    });
    if (gone.length > 0) void this.#redis.srem(NODES, ...gone).catch(() => undefined);
    return out.sort((a, b) => a.node_id.localeCompare(b.node_id));
  }

  async sessionCounts(keyId: string): Promise<{ all: number; key: number }> {
    const [all, key] = (await this.#call(() => this.#redis.eval(COUNT, 2, ALL_SESSIONS, keySessions(keyId)))) as [number, number];
    return { all, key };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    // Leaving on purpose: the node's entry goes at once (its sessions' leases went as they ended).
    await Promise.allSettled([this.#redis.del(nodeKey(this.nodeId)), this.#redis.srem(NODES, this.nodeId)]);
    this.#redis.disconnect();
  }

  /** Reports this node, and renews its sessions' leases every fifth of a lease. */
  async #beat(): Promise<void> {
    if (this.#closed) return;
    const beatMs = this.#opts.heartbeatMs ?? 1000;
    const node: StoredNode = { url: this.#opts.advertiseUrl, startedAt: this.#startedAt, at: Date.now(), report: this.#opts.report() };
    const m = this.#redis
      .multi()
      .set(nodeKey(this.nodeId), JSON.stringify(node), 'PX', beatMs * 3)
      .sadd(NODES, this.nodeId);
    const now = Date.now();
    if (now - this.#lastRenew >= this.#opts.leaseMs / 5 && this.#mine.size > 0) {
      const args: (string | number)[] = [this.#entry(false), this.#opts.leaseMs];
      for (const [sessionId, keyId] of this.#mine) args.push(keySessions(keyId), sessionId);
      m.eval(RENEW, 1, ALL_SESSIONS, ...args);
    }
    try {
      // EXEC resolves with each command's own outcome: a script refused inside it (OOM under maxmemory) is a failure.
      const failed = (await m.exec())?.find(([err]) => err);
      if (failed) throw failed[0];
      if (now - this.#lastRenew >= this.#opts.leaseMs / 5) this.#lastRenew = now;
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.#opts.onError?.(err as Error);
      this.#failing = true;
    }
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new FleetUnavailableError(`the fleet's shared state (Redis) can't be reached: ${(err as Error).message}`);
    }
  }
}
