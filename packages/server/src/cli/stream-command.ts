/**
 * `sightline stream SOURCE --url BASE_URL --api-key KEY [--transport webrtc|datachannel|ws] [--processor NAME]
 * [--params JSON] [--sessions N] [--seconds S] [--json] [--fps F] [--width W]` — the TypeScript twin of the seed's
 * demo.py: streams a file, y4m, RTSP/HTTP URL or V4L2 camera to a Sightline server and prints results (JSON lines)
 * or a live summary with a progress bar for files.
 */
import { parseArgs } from 'node:util';
import { percentile } from '@sightline/protocol';
import { outputSize, probeSource, readFrames, readJpegFrames, type ReadOptions, type SourceInfo } from '../stream/frame-source.js';
import { NodeClient, SightlineError, WsClient, type NodeResult, type StreamClient } from '@sightline/node';

export const STREAM_USAGE = `Usage: sightline stream SOURCE --url BASE_URL --api-key KEY [options]
  SOURCE                 video file (anything ffmpeg reads), .y4m, rtsp:// or http:// URL, or /dev/videoN
  --url URL              server base URL with its base path (env SIGHTLINE_URL)
  --api-key KEY          API key (env SIGHTLINE_API_KEY)
  --transport T          webrtc (video track, default), datachannel (JPEG frames on a DataChannel) or ws (JPEG
                         frames over the WebSocket bridge, for networks that block UDP)
  --window N             JPEG transports: most frames unacknowledged (default 2)
  --processor NAME       processor (server default if omitted); --params JSON for its params
  --sessions N           run N sessions at once (load generator), default 1
  --seconds S            stop after S seconds (default: at the end of the source)
  --json                 every result as one JSON line on stdout (the DataChannel result message)
  --fps F                frames per second sent (default 30); --width W scales frames to W pixels wide (default 640)
  --ignore-capture-hints send --width and --fps even when the server says its processor needs less (by default
                         frames are scaled down to the server's capture hint and sent at most at its fps)`;

interface Stats {
  results: number;
  rtts: number[];
  sent: number;
  dropped: number;
  errors: number;
}

export class UsageError extends Error {}

/**
 * `sightline stream`'s arguments as run options; throws UsageError for anything wrong. Returns `'help'` for --help.
 * Reads SIGHTLINE_URL / SIGHTLINE_API_KEY from `env` for a missing --url / --api-key.
 */
export function parseStreamArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): RunOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        'api-key': { type: 'string' },
        transport: { type: 'string', default: 'webrtc' },
        window: { type: 'string', default: '2' },
        processor: { type: 'string' },
        params: { type: 'string' },
        sessions: { type: 'string', default: '1' },
        seconds: { type: 'string' },
        json: { type: 'boolean', default: false },
        fps: { type: 'string', default: '30' },
        width: { type: 'string', default: '640' },
        'ignore-capture-hints': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const source = positionals[0];
  const url = (values.url as string | undefined) ?? env.SIGHTLINE_URL;
  const apiKey = (values['api-key'] as string | undefined) ?? env.SIGHTLINE_API_KEY;
  if (!source) throw new UsageError('SOURCE is required');
  if (!url) throw new UsageError('--url (or SIGHTLINE_URL) is required');
  if (!apiKey) throw new UsageError('--api-key (or SIGHTLINE_API_KEY) is required');
  const transport = values.transport as Transport;
  if (!TRANSPORTS.includes(transport)) throw new UsageError(`--transport must be one of ${TRANSPORTS.join(', ')} (got ${String(values.transport)})`);
  const int = (name: string, min: number, max: number): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  let params: Record<string, unknown> | undefined;
  if (values.params) {
    try {
      params = JSON.parse(String(values.params)) as Record<string, unknown>;
    } catch {
      throw new UsageError('--params must be JSON');
    }
  }
  return {
    source,
    url,
    apiKey,
    transport,
    window: int('window', 1, 64),
    processor: values.processor as string | undefined,
    params,
    sessions: int('sessions', 1, 64),
    fps: int('fps', 1, 120),
    width: int('width', 16, 4096),
    seconds: values.seconds === undefined ? undefined : int('seconds', 1, 86_400),
    json: values.json === true,
    hints: values['ignore-capture-hints'] !== true,
  };
}

export async function streamCommand(argv: string[]): Promise<number> {
  let opts: RunOptions | 'help';
  try {
    opts = parseStreamArgs(argv);
  } catch (err) {
    console.error(`sightline stream: ${(err as Error).message}\n\n${STREAM_USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    console.log(STREAM_USAGE);
    return 0;
  }
  try {
    return await run(opts);
  } catch (err) {
    // A refusal names the server's code and status: `invalid_api_key (403): the API key is not valid`.
    const why = err instanceof SightlineError ? `${err.code}${err.status ? ` (${err.status})` : ''}: ${err.message}` : (err as Error).message;
    console.error(`sightline stream: ${why}`);
    return 1;
  }
}

const TRANSPORTS = ['webrtc', 'datachannel', 'ws'] as const;
type Transport = (typeof TRANSPORTS)[number];

export interface RunOptions {
  source: string;
  url: string;
  apiKey: string;
  transport: Transport;
  window: number;
  processor: string | undefined;
  params: Record<string, unknown> | undefined;
  sessions: number;
  fps: number;
  width: number;
  seconds: number | undefined;
  json: boolean;
  /** Follow the server's capture hints (scale down, cap fps). */
  hints: boolean;
}

/** `capture`: the size frames are read at, so that a WebRTC answer carries the processor's capture hint at once. */
function connect(o: RunOptions, capture: { width: number; height: number }): Promise<StreamClient> {
  const common = { url: o.url, apiKey: o.apiKey, processor: o.processor, params: o.params, window: o.window };
  return o.transport === 'ws' ? WsClient.connect(common) : NodeClient.connect({ ...common, transport: o.transport, capture });
}

/** `[#####-----]  45%` for files (by the source position), elapsed/--seconds for live sources that have them. */
function progressBar(fraction: number | undefined): string {
  if (fraction === undefined) return '';
  const f = Math.max(0, Math.min(1, fraction));
  const n = Math.round(f * 20);
  return `  [${'#'.repeat(n)}${'-'.repeat(20 - n)}] ${(f * 100).toFixed(0).padStart(3)}%`;
}

async function run(o: RunOptions): Promise<number> {
  const stats: Stats = { results: 0, rtts: [], sent: 0, dropped: 0, errors: 0 };
  const clients: StreamClient[] = [];
  const summaryOut = o.json ? process.stderr : process.stdout;
  const live = summaryOut.isTTY === true;
  const abort = new AbortController();
  if (o.seconds) setTimeout(() => abort.abort(), o.seconds * 1000).unref();
  const info: SourceInfo = probeSource(o.source);
  // Where the source is, in seconds: frames read by the first session / fps.
  let position = 0;
  const total = o.seconds !== undefined && info.durationS !== undefined ? Math.min(o.seconds, info.durationS) : (o.seconds ?? info.durationS);
  const started = performance.now();
  let lastResults = 0;
  const ticker = setInterval(() => {
    const secs = (performance.now() - started) / 1000;
    const rate = stats.results - lastResults;
    lastResults = stats.results;
    const p50 = percentile(stats.rtts.slice(-300), 50);
    const p95 = percentile(stats.rtts.slice(-300), 95);
    const line = `[${secs.toFixed(0)}s] sessions ${clients.length}/${o.sessions}  sent ${stats.sent}  results ${stats.results} (${rate}/s)  RTT p50 ${p50?.toFixed(1) ?? '–'} ms p95 ${p95?.toFixed(1) ?? '–'} ms  dropped ${stats.dropped}  errors ${stats.errors}${progressBar(total ? position / total : undefined)}`;
    // A terminal gets one line redrawn in place; a pipe or file gets a line a second.
    summaryOut.write(live ? `\r\x1b[2K${line}` : `${line}\n`);
  }, 1000);
  try {
    await Promise.all(
      Array.from({ length: o.sessions }, async (_, index) => {
        const client = await connect(o, outputSize(info, o.width));
        clients.push(client);
        // The answer carries the processor's capture hint: frames are read at the size and rate it asks for.
        const fitOf = (): ReadOptions['fit'] =>
          o.hints && client.captureHint ? { maxWidth: client.captureHint.max_width, maxHeight: client.captureHint.max_height } : undefined;
        const fpsOf = (): number => Math.min(o.fps, (o.hints ? client.captureHint?.max_fps : undefined) ?? Infinity);
        let dropped = 0;
        client.onResult = (r: NodeResult) => {
          stats.results++;
          if (r.rttMs !== undefined) stats.rtts.push(r.rttMs);
          stats.dropped += r.message.dropped - dropped;
          dropped = r.message.dropped;
          if (o.json) process.stdout.write(`${JSON.stringify(r.message)}\n`);
        };
        client.onError = (e) => {
          stats.errors++;
          process.stderr.write(`${live ? '\n' : ''}error: ${e.code}: ${e.message}\n`);
        };
        let readS = 0;
        /** A frame read from the source (at `fps`), and sent unless the hint's fps skipped it. */
        const tick = (fps: number, sent = true): void => {
          if (sent) stats.sent++;
          readS += 1 / fps;
          if (index === 0) position = readS;
        };
        if (client.input === 'i420') {
          const fps = fpsOf();
          for await (const frame of readFrames(o.source, { fps, width: o.width, fit: fitOf(), signal: abort.signal })) {
            client.send(frame);
            tick(fps);
          }
        } else {
          // The JPEG encoder asks for the hint at every frame, so one that arrives mid-stream applies at the next
          // frame. A lower hinted fps skips frames at an even pace (they are neither sent nor counted).
          let credit = 0;
          for await (const jpeg of readJpegFrames(o.source, { fps: o.fps, width: o.width, fitNow: fitOf, signal: abort.signal })) {
            credit += fpsOf() / o.fps;
            const send = credit >= 1 - 1e-9;
            if (send) {
              credit -= 1;
              client.sendEncoded(jpeg);
            }
            tick(o.fps, send);
          }
        }
        // Results of the last frames are still on their way.
        await new Promise((r) => setTimeout(r, 1000));
        const s = client.senderStats;
        // Frames the ack window held back (a newer one replaced them) never left this process: count them as dropped.
        if (s) stats.dropped += s.skipped + s.lost;
      }),
    );
  } finally {
    clearInterval(ticker);
    await Promise.all(clients.map((c) => c.close()));
    if (live) summaryOut.write('\n');
  }
  const p50 = percentile(stats.rtts, 50);
  const p95 = percentile(stats.rtts, 95);
  summaryOut.write(
    `done: ${o.sessions} session(s) over ${o.transport}, ${stats.sent} frames sent, ${stats.results} results (${((stats.results / Math.max(1, stats.sent)) * 100).toFixed(1)}%), RTT p50 ${p50?.toFixed(1) ?? '–'} ms, p95 ${p95?.toFixed(1) ?? '–'} ms, dropped ${stats.dropped}, errors ${stats.errors}\n`,
  );
  return stats.results > 0 ? 0 : 1;
}
