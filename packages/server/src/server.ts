import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/app.js';
import { KeyStore, readKeysFile } from './api/key-store.js';
import type { ServerConfig } from './config.js';
import type { MediaEngine } from './engine/media-engine.js';
import { wrtcEngine } from './engine/wrtc-engine.js';
import { InferencePool } from './models/inference-pool.js';
import { BUILTIN_MODELS } from './models/model-catalog.js';
import type { ProcessorRegistry } from './pipeline/processor-registry.js';
import { builtinProcessors } from './processors/builtin-processors.js';
import { SessionManager } from './session/session-manager.js';

export interface SightlineServer {
  app: FastifyInstance;
  sessions: SessionManager;
  pool: InferencePool;
  registry: ProcessorRegistry;
  /** Set when no key was configured: the one generated for this run. */
  devKey: string | undefined;
  /** Listens; resolves with the address. */
  listen(): Promise<string>;
  /** Ends every session, stops workers and the HTTP server. Idempotent. */
  close(): Promise<void>;
}

export interface CreateServerOptions {
  engine?: MediaEngine;
  registry?: ProcessorRegistry;
  demoDir?: string;
}

const defaultDemoDir = fileURLToPath(new URL('../../demo/dist/', import.meta.url));

/** Wires config → inference pool → session manager → HTTP app. Resolves once models are loaded in every worker. */
export async function createServer(config: ServerConfig, opts: CreateServerOptions = {}): Promise<SightlineServer> {
  const registry = opts.registry ?? builtinProcessors();
  if (!registry.has(config.processor)) {
    throw new Error(`--processor "${config.processor}" is not a registered processor (available: ${registry.names().join(', ')})`);
  }
  const keyList = [...config.apiKeys, ...(config.keysFile ? readKeysFile(config.keysFile) : [])];
  const devKey = keyList.length === 0 ? `dev-${randomBytes(18).toString('base64url')}` : undefined;
  const keys = new KeyStore(devKey ? [devKey] : keyList);

  const needed = new Set(registry.models());
  const pool = await InferencePool.create({
    size: config.workers,
    models: BUILTIN_MODELS.filter((m) => needed.has(m.name)),
    intraOpNumThreads: config.intraOpThreads,
  });
  let app: FastifyInstance | undefined;
  const sessions = new SessionManager({
    engine: opts.engine ?? wrtcEngine,
    registry,
    pool,
    peer: { iceServers: [], iceGatheringTimeoutMs: config.iceGatheringTimeoutMs },
    maxSessions: config.maxSessions,
    connectTimeoutMs: config.connectTimeoutMs,
    disconnectedTimeoutMs: config.disconnectedTimeoutMs,
    onSessionEnd: (s) => app?.log.info({ ...s }, 'session ended'),
  });
  let closing = false;
  app = await buildApp({
    keys,
    sessions,
    basePath: config.basePath,
    defaultProcessor: config.processor,
    corsOrigins: config.corsOrigins,
    demoDir: opts.demoDir ?? defaultDemoDir,
    logLevel: config.logLevel,
    ...(devKey ? { devKey } : {}),
    readiness: () => ({
      ready: !closing && !pool.closed && pool.size > 0,
      workers: pool.size,
      models: pool.models,
      sessions: sessions.size,
      max_sessions: sessions.maxSessions,
    }),
  });
  const theApp = app;
  let closed: Promise<void> | undefined;
  return {
    app: theApp,
    sessions,
    pool,
    registry,
    devKey,
    listen: () => theApp.listen({ port: config.port, host: config.host }),
    close: () => {
      closed ??= (async () => {
        closing = true;
        sessions.closeAll('shutdown');
        await theApp.close();
        await pool.close();
      })();
      return closed;
    },
  };
}
