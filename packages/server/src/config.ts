import { CODEC_DEVICES, type HwDevice } from '@sightline/media';
import { DEFAULT_VIDEO_CODECS, VIDEO_CODECS, videoCodecOf, type VideoCodec } from './engine/ndc/codec-choice.js';
import { availableParallelism, hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { Device } from './models/adapters/model-info.js';
import { ADAPTERS, type AdapterName } from './models/adapters/registry.js';

/** Everything the server can be told, from flags or environment. Times in milliseconds. */
export interface ServerConfig {
  port: number;
  /** Whether --processor / SIGHTLINE_PROCESSOR was given (else a --model picks detect or classify). */
  processorExplicit: boolean;
  host: string;
  basePath: string;
  processor: string;
  apiKeys: string[];
  keysFile: string | undefined;
  maxSessions: number;
  /** WHEP viewers per session. */
  maxViewers: number;
  workers: number;
  intraOpThreads: number;
  corsOrigins: '*' | string[];
  iceGatheringTimeoutMs: number;
  connectTimeoutMs: number;
  disconnectedTimeoutMs: number;
  idleTimeoutMs: number;
  nodeId: string;
  shutdownTimeoutMs: number;
  logLevel: string;
  /** `--model` values: `path`, `name=path` or `name=path@adapter`. */
  models: string[];
  adapter: AdapterName | undefined;
  labelsFile: string | undefined;
  device: Device;
  maxBatch: number;
  maxDelayMs: number;
  /** STUN and TURN servers handed to clients (GET /webrtc/ice-servers). */
  stunUrls: string[];
  turnUrls: string[];
  turnSecret: string | undefined;
  turnTtl: number;
  rtcPortMin: number | undefined;
  rtcPortMax: number | undefined;
  /** One UDP port for every session (libdatachannel's ICE UDP mux); excludes the range. */
  rtcPort: number | undefined;
  announcedIp: string | undefined;
  /** Video codecs the media engine answers, in order of preference. */
  videoCodecs: VideoCodec[];
  /** The bitrate announced to video senders (REMB), kbps. */
  maxBitrateKbps: number;
  /** Where video is decoded and encoded: a GPU through FFmpeg's hwaccel, the CPU, or `auto` (a GPU if one opens). */
  codecDevice: HwDevice;
  /** JPEG/WebP frames sent as chunks (DataChannel or WebSocket): largest frame in bytes and in pixels. */
  maxFrameBytes: number;
  maxFramePixels: number;
  /** Where recordings go; recording is off without it. */
  recordDir: string | undefined;
  /** `requested`: sessions that ask (`record: true`); `all`: every session. */
  record: 'requested' | 'all';
  /** On SIGTERM: how long live sessions may go on (told `draining`) before they are ended. */
  drainTimeoutMs: number;
  /** New sessions get 503 while frames wait longer than this for inference (ms); 0: never. */
  admissionMaxWaitMs: number;
  /** SQLite file of the history store (used unless DATABASE_URL names PostgreSQL); `:memory:` keeps nothing. */
  db: string;
  /** PostgreSQL URL (postgres://…) from DATABASE_URL: the history store lives there instead. */
  databaseUrl: string | undefined;
  /** Redis shared by a fleet of media nodes (node registry, session directory, per-key leases); undefined: one node. */
  redisUrl: string | undefined;
  /** Where the other nodes of a fleet reach this one over HTTP to forward a session's requests to it. */
  advertiseUrl: string;
  /** How long a session's fleet lease outlives its node's last renewal (a dead node's slots come back within it). */
  fleetLeaseMs: number;
  /** How often buffered history rows are written; a crash loses at most this much. */
  dbFlushIntervalMs: number;
  /** Results, events and ended sessions older than this are deleted (hourly); 0 keeps everything. */
  retentionDays: number;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** The `status` text of `GET {base}/webrtc/health` (the seed documents "WebRTC Skin API healthy"). */
  healthStatus: string;
  /** Messages a session keeps for its client until its DataChannel opens; beyond it the oldest are dropped, counted. */
  earlyMessages: number;
}

interface OptionSpec {
  flag: string;
  env: string;
  /** `list`: the flag may repeat; the environment variable is a comma list. */
  kind: 'string' | 'int' | 'list';
  help: string;
  default: () => string;
}

/** The contract: each flag, its environment variable and its default. */
export const OPTIONS: Record<Exclude<keyof ServerConfig, 'processorExplicit'>, OptionSpec> = {
  port: { flag: 'port', env: 'SIGHTLINE_PORT', kind: 'int', help: 'HTTP port', default: () => '8080' },
  host: { flag: 'host', env: 'SIGHTLINE_HOST', kind: 'string', help: 'address to listen on', default: () => '0.0.0.0' },
  basePath: { flag: 'base-path', env: 'SIGHTLINE_BASE_PATH', kind: 'string', help: 'prefix of the API routes, e.g. /skin', default: () => '' },
  processor: { flag: 'processor', env: 'SIGHTLINE_PROCESSOR', kind: 'string', help: 'processor for offers that name none', default: () => 'face' },
  apiKeys: { flag: 'api-keys', env: 'SIGHTLINE_API_KEYS', kind: 'string', help: 'comma-separated API keys', default: () => '' },
  keysFile: {
    flag: 'keys-file',
    env: 'SIGHTLINE_KEYS_FILE',
    kind: 'string',
    help: 'API keys with tenants and limits (YAML/JSON, or one key a line); reloaded on change',
    default: () => '',
  },
  maxViewers: {
    flag: 'max-viewers',
    env: 'SIGHTLINE_MAX_VIEWERS',
    kind: 'int',
    help: 'WHEP viewers one session may have at once before 503',
    default: () => '4',
  },
  maxSessions: { flag: 'max-sessions', env: 'SIGHTLINE_MAX_SESSIONS', kind: 'int', help: 'concurrent sessions before 503', default: () => '16' },
  workers: { flag: 'workers', env: 'SIGHTLINE_WORKERS', kind: 'int', help: 'inference worker threads', default: () => String(availableParallelism()) },
  intraOpThreads: { flag: 'intra-op-threads', env: 'SIGHTLINE_INTRA_OP_THREADS', kind: 'int', help: 'onnxruntime threads per worker', default: () => '1' },
  corsOrigins: { flag: 'cors-origins', env: 'SIGHTLINE_CORS_ORIGINS', kind: 'string', help: '"*" or comma-separated allowed origins', default: () => '*' },
  iceGatheringTimeoutMs: {
    flag: 'ice-gathering-timeout-ms',
    env: 'SIGHTLINE_ICE_GATHERING_TIMEOUT_MS',
    kind: 'int',
    help: 'longest wait for ICE gathering before answering',
    default: () => '3000',
  },
  connectTimeoutMs: {
    flag: 'connect-timeout-ms',
    env: 'SIGHTLINE_CONNECT_TIMEOUT_MS',
    kind: 'int',
    help: 'a session that does not connect within this ends',
    default: () => '30000',
  },
  disconnectedTimeoutMs: {
    flag: 'disconnected-timeout-ms',
    env: 'SIGHTLINE_DISCONNECTED_TIMEOUT_MS',
    kind: 'int',
    help: 'a session disconnected this long ends',
    default: () => '10000',
  },
  idleTimeoutMs: {
    flag: 'idle-timeout-ms',
    env: 'SIGHTLINE_IDLE_TIMEOUT_MS',
    kind: 'int',
    help: 'a connected client that sends no media and no messages for this long is gone: its session (or WHEP viewer) ends with end_reason timeout (0: never)',
    default: () => '5000',
  },
  nodeId: {
    flag: 'node-id',
    env: 'SIGHTLINE_NODE_ID',
    kind: 'string',
    help: "this server's name in the history store: at start, the sessions it left open (a crash) are closed as server_crash. Servers sharing a database need distinct ones",
    default: () => hostname(),
  },
  drainTimeoutMs: {
    flag: 'drain-timeout-ms',
    env: 'SIGHTLINE_DRAIN_TIMEOUT_MS',
    kind: 'int',
    help: 'on SIGTERM, how long live sessions may go on (told "draining") before they are ended',
    default: () => '30000',
  },
  shutdownTimeoutMs: {
    flag: 'shutdown-timeout-ms',
    env: 'SIGHTLINE_SHUTDOWN_TIMEOUT_MS',
    kind: 'int',
    help: 'longest clean shutdown after the drain before forcing exit',
    default: () => '5000',
  },
  logLevel: { flag: 'log-level', env: 'SIGHTLINE_LOG_LEVEL', kind: 'string', help: 'fatal|error|warn|info|debug|trace|silent', default: () => 'info' },
  models: {
    flag: 'model',
    env: 'SIGHTLINE_MODELS',
    kind: 'list',
    help: 'your ONNX model: PATH, NAME=PATH or NAME=PATH@ADAPTER (repeatable)',
    default: () => '',
  },
  adapter: {
    flag: 'adapter',
    env: 'SIGHTLINE_ADAPTER',
    kind: 'string',
    help: 'yolo|ssd|classifier|blazeface for --model (default: detected)',
    default: () => '',
  },
  labelsFile: {
    flag: 'labels',
    env: 'SIGHTLINE_LABELS',
    kind: 'string',
    help: 'class names for --model: one a line, JSON array, or {0: name}',
    default: () => '',
  },
  device: { flag: 'device', env: 'SIGHTLINE_DEVICE', kind: 'string', help: 'cpu|cuda|tensorrt', default: () => 'cpu' },
  maxBatch: { flag: 'max-batch', env: 'SIGHTLINE_MAX_BATCH', kind: 'int', help: 'largest cross-session batch (dynamic-batch models)', default: () => '8' },
  stunUrls: { flag: 'stun-urls', env: 'SIGHTLINE_STUN_URLS', kind: 'list', help: 'STUN URLs for clients (stun:host:port, comma list)', default: () => '' },
  turnUrls: { flag: 'turn-urls', env: 'SIGHTLINE_TURN_URLS', kind: 'list', help: 'TURN URLs for clients (turn:/turns:, comma list)', default: () => '' },
  turnSecret: {
    flag: 'turn-secret',
    env: 'SIGHTLINE_TURN_SECRET',
    kind: 'string',
    help: "shared secret of the TURN server's use-auth-secret",
    default: () => '',
  },
  turnTtl: { flag: 'turn-ttl', env: 'SIGHTLINE_TURN_TTL', kind: 'int', help: 'lifetime of TURN credentials, seconds', default: () => '3600' },
  rtcPortMin: {
    flag: 'rtc-port-min',
    env: 'SIGHTLINE_RTC_PORT_MIN',
    kind: 'int',
    help: 'lowest UDP port for WebRTC media (with --rtc-port-max)',
    default: () => '',
  },
  rtcPortMax: { flag: 'rtc-port-max', env: 'SIGHTLINE_RTC_PORT_MAX', kind: 'int', help: 'highest UDP port for WebRTC media', default: () => '' },
  rtcPort: {
    flag: 'rtc-port',
    env: 'SIGHTLINE_RTC_PORT',
    kind: 'int',
    help: 'every session on this one UDP port (ICE UDP mux), instead of a port per session',
    default: () => '',
  },
  announcedIp: {
    flag: 'announced-ip',
    env: 'SIGHTLINE_ANNOUNCED_IP',
    kind: 'string',
    help: 'public IPv4 put in host candidates (server behind 1:1 NAT)',
    default: () => '',
  },
  videoCodecs: {
    flag: 'video-codecs',
    env: 'SIGHTLINE_VIDEO_CODECS',
    kind: 'list',
    help: 'video codecs answered, in order of preference: H264,VP8,VP9,AV1,H265',
    default: () => DEFAULT_VIDEO_CODECS.join(','),
  },
  maxBitrateKbps: {
    flag: 'max-bitrate',
    env: 'SIGHTLINE_MAX_BITRATE',
    kind: 'int',
    help: 'bitrate announced to video senders (REMB), kbps',
    default: () => '2500',
  },
  codecDevice: {
    flag: 'codec-device',
    env: 'SIGHTLINE_CODEC_DEVICE',
    kind: 'string',
    help: 'where video is decoded and encoded: auto (a GPU if one opens, else the CPU), cpu, vaapi, cuda, qsv',
    default: () => 'auto',
  },
  maxFrameBytes: {
    flag: 'max-frame-bytes',
    env: 'SIGHTLINE_MAX_FRAME_BYTES',
    kind: 'int',
    help: 'largest JPEG/WebP frame sent as chunks, bytes',
    default: () => String(2 * 1024 * 1024),
  },
  maxFramePixels: {
    flag: 'max-frame-pixels',
    env: 'SIGHTLINE_MAX_FRAME_PIXELS',
    kind: 'int',
    help: 'largest JPEG/WebP frame, width x height',
    default: () => String(3840 * 2160),
  },
  recordDir: {
    flag: 'record-dir',
    env: 'SIGHTLINE_RECORD_DIR',
    kind: 'string',
    help: 'directory for session recordings (video/audio file + results JSONL)',
    default: () => '',
  },
  record: {
    flag: 'record',
    env: 'SIGHTLINE_RECORD',
    kind: 'string',
    help: 'requested|all: record sessions that ask, or every session (needs --record-dir)',
    default: () => 'requested',
  },
  admissionMaxWaitMs: {
    flag: 'admission-max-wait-ms',
    env: 'SIGHTLINE_ADMISSION_MAX_WAIT_MS',
    kind: 'int',
    help: 'refuse new sessions (503) while frames wait longer than this for inference; 0: never',
    default: () => '1000',
  },
  db: {
    flag: 'db',
    env: 'SIGHTLINE_DB',
    kind: 'string',
    help: 'SQLite file of the session history (unless DATABASE_URL is set); :memory: keeps nothing',
    default: () => 'sightline.db',
  },
  databaseUrl: {
    flag: 'database-url',
    env: 'DATABASE_URL',
    kind: 'string',
    help: 'PostgreSQL URL (postgres://user:pass@host/db) for the session history',
    default: () => '',
  },
  redisUrl: {
    flag: 'redis-url',
    env: 'SIGHTLINE_REDIS_URL',
    kind: 'string',
    help: 'Redis (redis://[:password@]host:port[/db]) shared by a fleet of servers: session limits per key across the fleet, and requests for a session forwarded to the server that holds it',
    default: () => '',
  },
  advertiseUrl: {
    flag: 'advertise-url',
    env: 'SIGHTLINE_ADVERTISE_URL',
    kind: 'string',
    help: "where the fleet's other servers reach this one over HTTP (with --redis-url), e.g. http://10.0.0.7:8080",
    default: () => '',
  },
  fleetLeaseMs: {
    flag: 'fleet-lease-ms',
    env: 'SIGHTLINE_FLEET_LEASE_MS',
    kind: 'int',
    help: "with --redis-url: how long a session's slot (of its key's max_sessions) outlives the last renewal by its server; a server that dies gives its slots back within this",
    default: () => '10000',
  },
  dbFlushIntervalMs: {
    flag: 'db-flush-interval-ms',
    env: 'SIGHTLINE_DB_FLUSH_INTERVAL_MS',
    kind: 'int',
    help: 'how often history rows are written (a crash loses at most this much)',
    default: () => '1000',
  },
  retentionDays: {
    flag: 'retention-days',
    env: 'SIGHTLINE_RETENTION_DAYS',
    kind: 'int',
    help: 'delete stored results, events and ended sessions older than this; 0 keeps all',
    default: () => '30',
  },
  metricsToken: {
    flag: 'metrics-token',
    env: 'SIGHTLINE_METRICS_TOKEN',
    kind: 'string',
    help: 'bearer token required by GET /metrics (default: open)',
    default: () => '',
  },
  healthStatus: {
    flag: 'health-status',
    env: 'SIGHTLINE_HEALTH_STATUS',
    kind: 'string',
    help: 'status text of GET {base}/webrtc/health (the seed\'s: "WebRTC Skin API healthy")',
    default: () => 'WebRTC API healthy',
  },
  earlyMessages: {
    flag: 'early-messages',
    env: 'SIGHTLINE_EARLY_MESSAGES',
    kind: 'int',
    help: 'results a session holds for its client until its DataChannel opens (oldest dropped and counted beyond it)',
    default: () => '32',
  },
  maxDelayMs: {
    flag: 'max-delay-ms',
    env: 'SIGHTLINE_MAX_DELAY_MS',
    kind: 'int',
    help: 'longest wait for a batch to fill while a worker is idle',
    default: () => '0',
  },
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Flags win over environment variables, which win over defaults. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const options = Object.fromEntries(Object.values(OPTIONS).map((o) => [o.flag, { type: 'string' as const, multiple: o.kind === 'list' }]));
  let values: Record<string, string | string[] | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | string[] | undefined>;
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  const raw = (key: keyof typeof OPTIONS): string => {
    const o = OPTIONS[key];
    const v = values[o.flag];
    return (Array.isArray(v) ? v.join(',') : v) ?? env[o.env] ?? o.default();
  };
  const oneOf = <T extends string>(key: keyof typeof OPTIONS, allowed: readonly T[]): T => {
    const v = raw(key);
    if (!(allowed as readonly string[]).includes(v)) {
      throw new ConfigError(`--${OPTIONS[key].flag} / ${OPTIONS[key].env} must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
    }
    return v as T;
  };
  const int = (key: keyof typeof OPTIONS, min: number, max: number): number => {
    const s = raw(key);
    const n = Number(s);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(`--${OPTIONS[key].flag} / ${OPTIONS[key].env} must be an integer from ${min} to ${max} (got ${JSON.stringify(s)})`);
    }
    return n;
  };
  const list = (s: string): string[] =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0);
  const urls = (key: keyof typeof OPTIONS, scheme: RegExp): string[] => {
    const out = list(raw(key));
    const bad = out.find((u) => !scheme.test(u));
    if (bad)
      throw new ConfigError(`--${OPTIONS[key].flag} / ${OPTIONS[key].env}: ${JSON.stringify(bad)} is not a ${scheme.source.replace(/[\^?:]/g, '')}: URL`);
    return out;
  };
  const cors = raw('corsOrigins').trim();
  const portRange = (): { rtcPortMin: number | undefined; rtcPortMax: number | undefined; rtcPort: number | undefined } => {
    if (raw('rtcPort')) {
      if (raw('rtcPortMin') || raw('rtcPortMax')) throw new ConfigError('--rtc-port (one port for every session) excludes --rtc-port-min/--rtc-port-max');
      return { rtcPortMin: undefined, rtcPortMax: undefined, rtcPort: int('rtcPort', 1024, 65535) };
    }
    if (!raw('rtcPortMin') && !raw('rtcPortMax')) return { rtcPortMin: undefined, rtcPortMax: undefined, rtcPort: undefined };
    const min = int('rtcPortMin', 1024, 65535);
    const max = int('rtcPortMax', 1024, 65535);
    if (max < min) throw new ConfigError(`--rtc-port-max (${max}) is below --rtc-port-min (${min})`);
    return { rtcPortMin: min, rtcPortMax: max, rtcPort: undefined };
  };
  const ip = (v: string): string | undefined => {
    if (!v) return undefined;
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(v) || v.split('.').some((n) => Number(n) > 255))
      throw new ConfigError(`--announced-ip must be an IPv4 address (got ${JSON.stringify(v)})`);
    return v;
  };
  return {
    port: int('port', 0, 65535),
    host: raw('host'),
    basePath: normaliseBasePath(raw('basePath')),
    processor: raw('processor'),
    apiKeys: list(raw('apiKeys')),
    keysFile: raw('keysFile') || undefined,
    maxSessions: int('maxSessions', 1, 100_000),
    maxViewers: int('maxViewers', 0, 64),
    workers: int('workers', 1, 256),
    intraOpThreads: int('intraOpThreads', 1, 256),
    corsOrigins: cors === '*' ? '*' : list(cors),
    iceGatheringTimeoutMs: int('iceGatheringTimeoutMs', 100, 60_000),
    connectTimeoutMs: int('connectTimeoutMs', 1000, 600_000),
    disconnectedTimeoutMs: int('disconnectedTimeoutMs', 0, 600_000),
    idleTimeoutMs: int('idleTimeoutMs', 0, 600_000),
    nodeId: nodeIdOf(raw('nodeId')),
    shutdownTimeoutMs: int('shutdownTimeoutMs', 0, 600_000),
    drainTimeoutMs: int('drainTimeoutMs', 0, 3_600_000),
    logLevel: raw('logLevel'),
    processorExplicit: values[OPTIONS.processor.flag] !== undefined || env[OPTIONS.processor.env] !== undefined,
    models: list(raw('models')),
    adapter: raw('adapter') ? oneOf('adapter', ADAPTERS) : undefined,
    labelsFile: raw('labelsFile') || undefined,
    device: oneOf('device', ['cpu', 'cuda', 'tensorrt'] as const),
    maxBatch: int('maxBatch', 1, 256),
    maxDelayMs: int('maxDelayMs', 0, 1000),
    stunUrls: urls('stunUrls', /^stuns?:/),
    turnUrls: urls('turnUrls', /^turns?:/),
    turnSecret: raw('turnSecret') || undefined,
    turnTtl: int('turnTtl', 60, 7 * 86400),
    ...portRange(),
    announcedIp: ip(raw('announcedIp')),
    videoCodecs: videoCodecs(list(raw('videoCodecs'))),
    maxBitrateKbps: int('maxBitrateKbps', 100, 100_000),
    codecDevice: oneOf('codecDevice', CODEC_DEVICES),
    maxFrameBytes: int('maxFrameBytes', 1024, 64 * 1024 * 1024),
    maxFramePixels: int('maxFramePixels', 64, 100_000_000),
    recordDir: raw('recordDir') || undefined,
    record: oneOf('record', ['requested', 'all'] as const),
    admissionMaxWaitMs: int('admissionMaxWaitMs', 0, 600_000),
    db: raw('db'),
    databaseUrl: databaseUrl(raw('databaseUrl')),
    redisUrl: redisUrl(raw('redisUrl')),
    advertiseUrl: advertiseUrl(raw('advertiseUrl'), int('port', 0, 65535)),
    fleetLeaseMs: int('fleetLeaseMs', 3000, 600_000),
    dbFlushIntervalMs: int('dbFlushIntervalMs', 10, 600_000),
    retentionDays: int('retentionDays', 0, 36_500),
    metricsToken: raw('metricsToken') || undefined,
    healthStatus: healthStatus(raw('healthStatus')),
    earlyMessages: int('earlyMessages', 0, 10_000),
  };
}

function videoCodecs(names: string[]): VideoCodec[] {
  const out: VideoCodec[] = [];
  for (const n of names) {
    const c = videoCodecOf(n);
    if (!c) throw new ConfigError(`--video-codecs / SIGHTLINE_VIDEO_CODECS: ${JSON.stringify(n)} is not one of ${VIDEO_CODECS.join(', ')}`);
    if (!out.includes(c)) out.push(c);
  }
  if (out.length === 0) throw new ConfigError('--video-codecs / SIGHTLINE_VIDEO_CODECS must name at least one codec');
  return out;
}

function healthStatus(v: string): string {
  if (v.length === 0 || v.length > 200 || /\p{Cc}/u.test(v))
    throw new ConfigError('--health-status / SIGHTLINE_HEALTH_STATUS must be 1 to 200 printable characters');
  return v;
}

function redisUrl(v: string): string | undefined {
  if (!v) return undefined;
  if (!/^rediss?:\/\/[^/]/.test(v)) throw new ConfigError('--redis-url / SIGHTLINE_REDIS_URL must be a redis:// or rediss:// URL');
  return v;
}

/** Default: this host's name and port, which is what other nodes on one network (or Kubernetes pods) can reach. */
function advertiseUrl(v: string, port: number): string {
  if (!v) return `http://${hostname()}:${port}`;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(`--advertise-url / SIGHTLINE_ADVERTISE_URL must be an http:// URL (got ${JSON.stringify(v)})`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ConfigError(`--advertise-url / SIGHTLINE_ADVERTISE_URL must be an http:// or https:// URL (got ${JSON.stringify(v)})`);
  return v.replace(/\/+$/, '');
}

function databaseUrl(v: string): string | undefined {
  if (!v) return undefined;
  if (!/^postgres(ql)?:\/\//.test(v)) throw new ConfigError('--database-url / DATABASE_URL must be a postgres:// or postgresql:// URL');
  return v;
}

/** '' or '/a/b' (leading slash, no trailing slash). */
export function normaliseBasePath(p: string): string {
  const trimmed = p.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  if (!/^\/?[A-Za-z0-9._~\-/]+$/.test(trimmed)) throw new ConfigError(`--base-path must be a URL path like /skin (got ${JSON.stringify(p)})`);
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

export function usage(): string {
  const rows = Object.values(OPTIONS).map((o) => `  --${o.flag.padEnd(26)} ${o.env.padEnd(36)} ${o.help} (default: ${o.default() || 'none'})`);
  return ['Usage: sightline serve [options]', '', '  flag                         environment variable', ...rows].join('\n');
}

function nodeIdOf(v: string): string {
  // Stored with every session row: plain printable text, short.
  if (!/^[\x21-\x7e]{1,128}$/.test(v))
    throw new ConfigError(`--node-id / SIGHTLINE_NODE_ID must be 1–128 printable ASCII characters without spaces (got ${JSON.stringify(v)})`);
  return v;
}
