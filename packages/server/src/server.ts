import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/app.js';
import { KeyStore, readKeysFile } from './api/key-store.js';
import { watchKeysFile } from './api/keys-file-watcher.js';
import type { ServerConfig } from './config.js';
import type { MediaEngine } from './engine/media-engine.js';
import { wrtcEngine } from './engine/wrtc-engine.js';
import { checkDevice } from './models/device-check.js';
import { InferencePool } from './models/inference-pool.js';
import { readLabelsFile } from './models/labels-file.js';
import { BUILTIN_MODELS, parseModelArg } from './models/model-catalog.js';
import type { ModelInfo } from './models/adapters/model-info.js';
import type { ProcessorRegistry } from './pipeline/processor-registry.js';
import { builtinProcessors } from './processors/builtin-processors.js';
import { SessionManager } from './session/session-manager.js';
import { AudioProcessorRegistry } from './audio/audio-registry.js';
import { builtinAudioProcessors } from './audio/builtin-audio-processors.js';
import { VadRunner } from './audio/vad-runner.js';

export interface SightlineServer {
  app: FastifyInstance;
  sessions: SessionManager;
  pool: InferencePool;
  registry: ProcessorRegistry;
  /** Set when no key was configured: the one generated for this run. */
  devKey: string | undefined;
  /** The processor for offers that name none. */
  defaultProcessor: string;
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
  if (config.turnUrls.length > 0 && !config.turnSecret) throw new Error('--turn-urls needs --turn-secret (the TURN server\'s use-auth-secret) to make client credentials');
  const labels = config.labelsFile ? readLabelsFile(config.labelsFile) : undefined;
  const userModels = config.models.map((m) => parseModelArg(m, config.adapter, labels));
  const clash = userModels.find((m) => BUILTIN_MODELS.some((b) => b.name === m.name));
  if (clash) throw new Error(`model name "${clash.name}" is taken by a built-in model; name yours with --model NAME=PATH`);
  const pool = await InferencePool.create({
    size: config.workers,
    models: [...BUILTIN_MODELS, ...userModels],
    intraOpNumThreads: config.intraOpThreads,
    device: config.device,
    maxBatch: config.maxBatch,
    maxDelayMs: config.maxDelayMs,
  });
  try {
    return await assemble(config, opts, pool, keys, devKey, userModels.map((m) => m.name));
  } catch (err) {
    await pool.close();
    throw err;
  }
}

async function assemble(
  config: ServerConfig,
  opts: CreateServerOptions,
  pool: InferencePool,
  keys: KeyStore,
  devKey: string | undefined,
  userModelNames: string[],
): Promise<SightlineServer> {
  const registry = (opts.registry ?? builtinProcessors)(pool.models);
  // With your own model and no --processor, sessions run it by default.
  const firstUser = pool.models.find((m) => userModelNames.includes(m.name));
  const defaultProcessor = config.processorExplicit || !firstUser ? config.processor : firstUser.kind === 'classifier' ? 'classify' : firstUser.adapter === 'blazeface' ? 'face' : 'detect';
  if (!registry.has(defaultProcessor)) {
    throw new Error(`--processor "${defaultProcessor}" is not a registered processor (available: ${registry.names().join(', ')})`);
  }
  let app: FastifyInstance | undefined;
  // One Silero VAD worker for every session's `vad` stream, started on first use.
  const vad = new VadRunner({ onWorkerError: (err) => app?.log.error({ err }, 'VAD worker failed') });
  const audio = new AudioProcessorRegistry(builtinAudioProcessors({ vad }));
  const sessions = new SessionManager({
    audio,
    recording: config.recordDir ? { dir: config.recordDir, all: config.record === 'all' } : undefined,
    engine: opts.engine ?? wrtcEngine,
    registry,
    pool,
    peer: {
      // The server's own peers gather STUN (server-reflexive) candidates too, when STUN is configured.
      iceServers: config.stunUrls.length > 0 ? [{ urls: config.stunUrls }] : [],
      iceGatheringTimeoutMs: config.iceGatheringTimeoutMs,
      portRange: config.rtcPortMin !== undefined && config.rtcPortMax !== undefined ? { min: config.rtcPortMin, max: config.rtcPortMax } : undefined,
      announcedIp: config.announcedIp,
    },
    maxSessions: config.maxSessions,
    policyOf: (id) => keys.policy(id),
    admissionMaxWaitMs: config.admissionMaxWaitMs,
    encodedFrames: { maxFrameBytes: config.maxFrameBytes, maxPixels: config.maxFramePixels },
    connectTimeoutMs: config.connectTimeoutMs,
    disconnectedTimeoutMs: config.disconnectedTimeoutMs,
    onSessionEnd: (s) => app?.log.info({ ...s }, 'session ended'),
  });
  let closing = false;
  app = await buildApp({
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
    ...(devKey ? { devKey } : {}),
    ice: { stunUrls: config.stunUrls, turnUrls: config.turnUrls, turnSecret: config.turnSecret, turnTtlSeconds: config.turnTtl },
    readiness: () => ({
      ready: !closing && !pool.closed && pool.size > 0,
      workers: pool.size,
      models: pool.models.map((m) => m.name),
      sessions: sessions.size,
      max_sessions: sessions.maxSessions,
    }),
  });
  const theApp = app;
  const unwatchKeys = config.keysFile ? watchKeysFile(config.keysFile, keys, theApp.log, config.apiKeys) : () => undefined;
  let closed: Promise<void> | undefined;
  return {
    app: theApp,
    sessions,
    pool,
    registry,
    devKey,
    defaultProcessor,
    listen: () => theApp.listen({ port: config.port, host: config.host }),
    drain: (deadlineMs) => {
      closing = true;
      return sessions.drain(deadlineMs);
    },
    close: () => {
      closed ??= (async () => {
        closing = true;
        unwatchKeys();
        sessions.closeAll('shutdown');
        await theApp.close();
        await sessions.recordingsDone();
        await vad.close();
        await pool.close();
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
