import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/app.js';
import { KeyStore, readKeysFile } from './auth/key-store.js';
import { watchKeysFile } from './auth/keys-file-watcher.js';
import type { ServerConfig } from './config.js';
import { openCodecDevice, openPeerCount, retainedCount, VIDEO_SEND_TOTALS, type CodecDevice } from '@sightline/media';
import { FdBudget, threadCount } from './engine/process-resources.js';
import type { MediaEngine } from './engine/media-engine.js';
import { createNdcEngine } from './engine/ndc/ndc-engine.js';
import { ffmpegDecoder } from './engine/ndc/ndc-codecs.js';
import { opusReceiver } from './engine/ndc/audio-receiver.js';
import { VIDEO_RECEIVE_TOTALS } from './engine/ndc/video-receiver.js';
import { checkDevice } from './models/device-check.js';
import { InferencePool } from './models/inference-pool.js';
import { readLabelsFile } from './models/labels-file.js';
import { BUILTIN_MODELS, parseModelArg } from './models/model-catalog.js';
import type { ModelInfo } from './models/adapters/model-info.js';
import type { ProcessorRegistry } from './pipeline/processor-registry.js';
import { builtinProcessors } from './processors/builtin-processors.js';
import { SessionManager } from './session/session-manager.js';
import { ServerMetrics } from './observability/server-metrics.js';
import { openStore } from './store/open-store.js';
import { storeObserver } from './store/store-observer.js';
import type { SessionStore } from './store/store.js';
import { AudioProcessorRegistry } from './audio/audio-registry.js';
import { builtinAudioProcessors } from './audio/builtin-audio-processors.js';
import { VadRunner } from './audio/vad-runner.js';
import { SoloFleet, type Fleet, type NodeReport } from './cluster/fleet.js';
import { RedisFleet } from './cluster/redis-fleet.js';
import type { ReadyResponse } from '@sightline/protocol';

export interface SightlineServer {
  app: FastifyInstance;
  /** The session history (SQLite or PostgreSQL). */
  store: SessionStore;
  metrics: ServerMetrics;
  sessions: SessionManager;
  pool: InferencePool;
  registry: ProcessorRegistry;
  /** Set when no key was configured: the one generated for this run. */
  devKey: string | undefined;
  /** The processor for offers that name none. */
  defaultProcessor: string;
  /** The nodes this one shares sessions limits and requests with (itself alone without --redis-url). */
  fleet: Fleet;
  /** Where the ndc engine's video codecs run ('cpu', 'cuda', 'vaapi (/dev/dri/renderD128)', …); undefined without it. */
  codecDevice: string | undefined;
  /** Listens; resolves with the address. */
  listen(): Promise<string>;
  /**
   * Graceful drain (SIGTERM): readiness false, new sessions refused (503), live sessions told `draining` and given up
   * to `deadlineMs` to end by themselves. Then call `close()`.
   */
  drain(deadlineMs: number): Promise<{ remaining: number }>;
  /** Ends every session, stops workers and the HTTP server. Idempotent. */
  close(): Promise<void>;
}

export interface CreateServerOptions {
  engine?: MediaEngine;
  /** Processors to offer; default: the built-ins for the loaded models. */
  registry?: (models: ModelInfo[]) => ProcessorRegistry;
  demoDir?: string;
}

const defaultDemoDir = fileURLToPath(new URL('../../demo/dist/', import.meta.url));

/** Wires config → inference pool → session manager → HTTP app. Resolves once models are loaded in every worker. */
export async function createServer(config: ServerConfig, opts: CreateServerOptions = {}): Promise<SightlineServer> {
  const keyList = [...config.apiKeys, ...(config.keysFile ? readKeysFile(config.keysFile) : [])];
  const devKey = keyList.length === 0 ? `dev-${randomBytes(18).toString('base64url')}` : undefined;
  const keys = new KeyStore(devKey ? [devKey] : keyList);

  checkDevice(config.device);
  if (config.recordDir) checkFfmpeg();
  // The codec device opens first: one asked for and missing fails the start, saying why. Its messages (what `auto`
  // chose, codecs that fall back to the CPU) wait for the logger.
  const codecLog: { to?: (message: string) => void; early: string[] } = { early: [] };
  const codecDevice = await openServerCodecDevice(config, opts, (m) => (codecLog.to ? codecLog.to(m) : codecLog.early.push(m)));
  if (config.turnUrls.length > 0 && !config.turnSecret)
    throw new Error("--turn-urls needs --turn-secret (the TURN server's use-auth-secret) to make client credentials");
  const labels = config.labelsFile ? readLabelsFile(config.labelsFile) : undefined;
  const userModels = config.models.map((m) => parseModelArg(m, config.adapter, labels));
  const clash = userModels.find((m) => BUILTIN_MODELS.some((b) => b.name === m.name));
  if (clash) throw new Error(`model name "${clash.name}" is taken by a built-in model; name yours with --model NAME=PATH`);
  // The pool starts before the logger and metrics exist: its deaths reach them once they do.
  const poolEvents: PoolEvents = {};
  const pool = await InferencePool.create({
    onWorkerDied: (err) => poolEvents.died?.(err),
    size: config.workers,
    models: [...BUILTIN_MODELS, ...userModels],
    intraOpNumThreads: config.intraOpThreads,
    device: config.device,
    maxBatch: config.maxBatch,
    maxDelayMs: config.maxDelayMs,
  }).catch((err: unknown) => {
    codecDevice?.close();
    throw err;
  });
  let store: SessionStore | undefined;
  const onStoreFlush: { log?: (o: object, msg: string) => void } = {};
  try {
    store = await openStore({
      ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : { sqlitePath: config.db }),
      flushIntervalMs: config.dbFlushIntervalMs,
      nodeId: config.nodeId,
      onError: rateLimitedLog('sightline: history store write failed'),
      // Debug level: what is durable so far (tests and operators checking the crash window read it).
      onFlush: (i) => onStoreFlush.log?.({ rows: i.rows, ms: Math.round(i.ms * 10) / 10, written: i.stats.written }, 'history flushed'),
    });
    const server = await assemble(
      config,
      opts,
      { pool, poolEvents, codecDevice },
      keys,
      devKey,
      userModels.map((m) => m.name),
      store,
    );
    onStoreFlush.log = (o, msg) => server.app.log.debug(o, msg);
    // What this server left open when it last died (no end was written) is closed now, before it serves again.
    const crashed = await store.closeCrashedSessions(config.nodeId);
    if (crashed > 0) server.app.log.warn({ sessions: crashed, node_id: config.nodeId }, 'sessions left open by a crash closed as server_crash');
    codecLog.to = (m) => server.app.log.info(m);
    for (const m of codecLog.early.splice(0)) codecLog.to(m);
    return server;
  } catch (err) {
    await store?.close();
    await pool.close();
    codecDevice?.close();
    throw err;
  }
}

/** The media engine's codec device (`--codec-device`), opened when this server makes its engine (not for a given one). */
async function openServerCodecDevice(config: ServerConfig, opts: CreateServerOptions, log: (message: string) => void): Promise<CodecDevice | undefined> {
  return opts.engine ? undefined : openCodecDevice(config.codecDevice, { log });
}

/** Where the inference pool reports a worker's death, once the server is assembled. */
interface PoolEvents {
  died?: (err: Error) => void;
}

async function assemble(
  config: ServerConfig,
  opts: CreateServerOptions,
  { pool, poolEvents, codecDevice }: { pool: InferencePool; poolEvents: PoolEvents; codecDevice: CodecDevice | undefined },
  keys: KeyStore,
  devKey: string | undefined,
  userModelNames: string[],
  store: SessionStore,
): Promise<SightlineServer> {
  const registry = (opts.registry ?? builtinProcessors)(pool.models);
  // With your own model and no --processor, sessions run it by default.
  const firstUser = pool.models.find((m) => userModelNames.includes(m.name));
  const defaultProcessor = config.processorExplicit || !firstUser ? config.processor : firstUser.kind === 'classifier' ? 'classify' : 'detect';
  if (!registry.has(defaultProcessor)) {
    throw new Error(`--processor "${defaultProcessor}" is not a registered processor (available: ${registry.names().join(', ')})`);
  }
  let app: FastifyInstance | undefined;
  const metrics = new ServerMetrics({
    poolQueue: () => {
      const l = pool.load();
      return { depth: l.queued, oldestAgeMs: l.oldestQueuedMs, pending: l.pending, waitMs: l.waitMs };
    },
    videoReceive: () => VIDEO_RECEIVE_TOTALS,
    videoSend: () => VIDEO_SEND_TOTALS,
    nativeResources: () => ({ threads: threadCount(), peers: openPeerCount(), closing: retainedCount() }),
    history: () => store.stats(),
  });
  poolEvents.died = (err) => {
    metrics.onWorkerDied('inference');
    app?.log.error({ err: err.message, workers: pool.size }, 'inference worker died; replacing it');
  };
  // One Silero VAD worker for every session's `vad` stream, started on first use.
  const vad = new VadRunner({
    onWorkerError: (err) => {
      metrics.onWorkerDied('vad');
      app?.log.error({ err: err.message }, 'VAD worker failed');
    },
  });
  const audio = new AudioProcessorRegistry(builtinAudioProcessors({ vad }));
  // Offers are refused (503) before the process runs out of file descriptors, which would abort it in native code.
  const fdBudget = new FdBudget();
  let closing = false;
  // What /readyz answers (a load balancer's health check): not ready while starting, draining, or full.
  const readiness = (): ReadyResponse => {
    const loaded = !pool.closed && pool.size > 0;
    const reason = closing ? 'draining' : !loaded ? 'starting' : sessions.size >= sessions.maxSessions ? 'full' : undefined;
    return {
      ready: reason === undefined,
      ...(reason ? { reason } : {}),
      workers: pool.size,
      models: pool.models.map((m) => m.name),
      sessions: sessions.size,
      max_sessions: sessions.maxSessions,
    };
  };
  const report = (): NodeReport => {
    const r = readiness();
    return { ready: r.ready, draining: closing, sessions: r.sessions, maxSessions: r.max_sessions, inferenceWaitMs: pool.load().waitMs };
  };
  const fleet: Fleet = config.redisUrl
    ? await RedisFleet.open({
        url: config.redisUrl,
        nodeId: config.nodeId,
        advertiseUrl: config.advertiseUrl,
        leaseMs: config.fleetLeaseMs,
        report,
        onError: (err) => app?.log.error({ err: err.message }, 'fleet heartbeat failed (Redis unreachable?): new sessions are refused until it is back'),
      })
    : new SoloFleet(config.nodeId, config.advertiseUrl, report);
  const sessions = new SessionManager({
    fleet,
    audio,
    // History and metrics follow sessions the same way: as observers.
    observers: [storeObserver(store, (id) => keys.policy(id)), metrics],
    recording: config.recordDir ? { dir: config.recordDir, all: config.record === 'all' } : undefined,
    engine:
      opts.engine ??
      createNdcEngine({
        videoCodecs: config.videoCodecs,
        maxBitrateBps: config.maxBitrateKbps * 1000,
        createDecoder: ffmpegDecoder,
        createAudioReceiver: opusReceiver,
        codecDevice,
        iceUdpMux: config.rtcPort !== undefined,
      }),
    registry,
    pool,
    peer: {
      // The server's own peers gather STUN (server-reflexive) candidates too, when STUN is configured.
      iceServers: config.stunUrls.length > 0 ? [{ urls: config.stunUrls }] : [],
      iceGatheringTimeoutMs: config.iceGatheringTimeoutMs,
      portRange:
        config.rtcPort !== undefined
          ? { min: config.rtcPort, max: config.rtcPort }
          : config.rtcPortMin !== undefined && config.rtcPortMax !== undefined
            ? { min: config.rtcPortMin, max: config.rtcPortMax }
            : undefined,
      announcedIp: config.announcedIp,
    },
    maxSessions: config.maxSessions,
    policyOf: (id) => keys.policy(id),
    admissionMaxWaitMs: config.admissionMaxWaitMs,
    encodedFrames: { maxFrameBytes: config.maxFrameBytes, maxPixels: config.maxFramePixels },
    connectTimeoutMs: config.connectTimeoutMs,
    maxViewers: config.maxViewers,
    admitPeer: () => fdBudget.refusal(),
    disconnectedTimeoutMs: config.disconnectedTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    earlyMessages: config.earlyMessages,
    onSessionEnd: (s) => app?.log.info({ ...s }, 'session ended'),
  });
  app = await buildApp({
    fleet,
    // A forwarded offer (resume, WHEP) may wait out the owner's ICE gathering.
    forwardTimeoutMs: config.iceGatheringTimeoutMs + 10_000,
    keys,
    sessions,
    basePath: config.basePath,
    defaultProcessor,
    registry,
    audio,
    pool,
    corsOrigins: config.corsOrigins,
    demoDir: opts.demoDir ?? defaultDemoDir,
    logLevel: config.logLevel,
    maxFrameBytes: config.maxFrameBytes,
    metrics,
    metricsToken: config.metricsToken,
    store,
    version: VERSION,
    healthStatus: config.healthStatus,
    ...(devKey ? { devKey } : {}),
    ice: { stunUrls: config.stunUrls, turnUrls: config.turnUrls, turnSecret: config.turnSecret, turnTtlSeconds: config.turnTtl },
    readiness,
  });
  const theApp = app;
  const unwatchKeys = config.keysFile
    ? watchKeysFile(config.keysFile, keys, theApp.log, config.apiKeys, () => {
        const ended = sessions.endRevoked((id) => keys.policy(id) !== undefined);
        if (ended > 0) theApp.log.warn({ sessions: ended }, 'sessions of removed keys ended (key_revoked)');
      })
    : () => undefined;
  // Retention: hourly, and once shortly after start.
  const retain = (): void => {
    if (config.retentionDays <= 0) return;
    store.applyRetention(config.retentionDays * 86_400_000).then(
      (r) => (r.sessions || r.results || r.events) && theApp.log.info({ deleted: r }, 'history retention applied'),
      (err: unknown) => theApp.log.error({ err }, 'history retention failed'),
    );
  };
  const retention = setInterval(retain, 3_600_000);
  retention.unref();
  setTimeout(retain, 10_000).unref();
  let closed: Promise<void> | undefined;
  return {
    app: theApp,
    store,
    metrics,
    sessions,
    pool,
    registry,
    devKey,
    defaultProcessor,
    fleet,
    codecDevice: codecDevice?.description,
    listen: () => theApp.listen({ port: config.port, host: config.host }),
    drain: (deadlineMs) => {
      closing = true;
      return sessions.drain(deadlineMs);
    },
    close: () => {
      closed ??= (async () => {
        closing = true;
        unwatchKeys();
        clearInterval(retention);
        sessions.closeAll('shutdown');
        await theApp.close();
        await sessions.recordingsDone();
        await vad.close();
        await fleet.close();
        await pool.close();
        codecDevice?.close();
        // Last: every session's end (and results) is buffered by now.
        await store.close();
      })();
      return closed;
    },
  };
}

/** Recording needs ffmpeg: say so at start rather than at the first session. */
function checkFfmpeg(): void {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) throw new Error(`--record-dir needs ffmpeg on the PATH (${r.error?.message ?? r.stderr.trim()})`);
}

/** The server package's version, for /openapi.json (package.json sits two levels above src/ and dist/ files). */
const VERSION = ((): string => {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();

/** A logger of repeated failures that says each kind at most once a minute. */
function rateLimitedLog(prefix: string): (err: unknown) => void {
  let last = 0;
  let skipped = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < 60_000) {
      skipped++;
      return;
    }
    console.error(`${prefix}${skipped ? ` (and ${skipped} more since the last report)` : ''}:`, err instanceof Error ? err.message : err);
    last = now;
    skipped = 0;
  };
}
