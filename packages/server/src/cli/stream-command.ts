/**
 * `sightline stream SOURCE --url BASE_URL --api-key KEY [--transport webrtc] [--processor NAME] [--params JSON]
 * [--sessions N] [--seconds S] [--json] [--fps F] [--width W]` — the TypeScript twin of the seed's demo.py: streams
 * a file, y4m, RTSP/HTTP URL or V4L2 camera to a Sightline server and prints results (JSON lines) or a live summary.
 */
import { parseArgs } from 'node:util';
import { probeSource, readFrames } from '../stream/frame-source.js';
import { NodeClient, type NodeResult } from '../stream/node-client.js';

export const STREAM_USAGE = `Usage: sightline stream SOURCE --url BASE_URL --api-key KEY [options]
  SOURCE                 video file (anything ffmpeg reads), .y4m, rtsp:// or http:// URL, or /dev/videoN
  --url URL              server base URL with its base path (env SIGHTLINE_URL)
  --api-key KEY          API key (env SIGHTLINE_API_KEY)
  --transport webrtc     how frames travel (webrtc; DataChannel-JPEG and WebSocket modes come with the server's support)
  --processor NAME       processor (server default if omitted); --params JSON for its params
  --sessions N           run N sessions at once (load generator), default 1
  --seconds S            stop after S seconds (default: at the end of the source)
  --json                 every result as one JSON line on stdout (the DataChannel result message)
  --fps F                frames per second sent (default 30); --width W scales frames to W pixels wide (default 640)`;

class UsageError extends Error {}

interface Stats {
  results: number;
  rtts: number[];
  sent: number;
  dropped: number;
  errors: number;
}

const pct = (xs: number[], p: number): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

export async function streamCommand(argv: string[]): Promise<number> {
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
        processor: { type: 'string' },
        params: { type: 'string' },
        sessions: { type: 'string', default: '1' },
        seconds: { type: 'string' },
        json: { type: 'boolean', default: false },
        fps: { type: 'string', default: '30' },
        width: { type: 'string', default: '640' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`sightline stream: ${(err as Error).message}\n\n${STREAM_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(STREAM_USAGE);
    return 0;
  }
  try {
    const source = positionals[0];
    const url = (values.url as string | undefined) ?? process.env.SIGHTLINE_URL;
    const apiKey = (values['api-key'] as string | undefined) ?? process.env.SIGHTLINE_API_KEY;
    if (!source) throw new UsageError('SOURCE is required');
    if (!url) throw new UsageError('--url (or SIGHTLINE_URL) is required');
    if (!apiKey) throw new UsageError('--api-key (or SIGHTLINE_API_KEY) is required');
    if (values.transport !== 'webrtc') throw new UsageError(`--transport ${String(values.transport)} is not available yet; use webrtc`);
    const int = (name: string, min: number, max: number): number => {
      const n = Number(values[name]);
      if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
      return n;
    };
    const sessions = int('sessions', 1, 64);
    const fps = int('fps', 1, 120);
    const width = int('width', 16, 4096);
    const seconds = values.seconds === undefined ? undefined : int('seconds', 1, 86_400);
    let params: Record<string, unknown> | undefined;
    if (values.params) {
      try {
        params = JSON.parse(String(values.params)) as Record<string, unknown>;
      } catch {
        throw new UsageError('--params must be JSON');
      }
    }
    return await run({ source, url, apiKey, processor: values.processor as string | undefined, params, sessions, fps, width, seconds, json: values.json === true });
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`sightline stream: ${err.message}\n\n${STREAM_USAGE}`);
      return 2;
    }
    console.error(`sightline stream: ${(err as Error).message}`);
    return 1;
  }
}

async function run(o: {
  source: string;
  url: string;
  apiKey: string;
  processor: string | undefined;
  params: Record<string, unknown> | undefined;
  sessions: number;
  fps: number;
  width: number;
  seconds: number | undefined;
  json: boolean;
}): Promise<number> {
  const stats: Stats = { results: 0, rtts: [], sent: 0, dropped: 0, errors: 0 };
  const clients: NodeClient[] = [];
  const summaryOut = o.json ? process.stderr : process.stdout;
  const abort = new AbortController();
  if (o.seconds) setTimeout(() => abort.abort(), o.seconds * 1000).unref();
  const started = performance.now();
  let lastResults = 0;
  const ticker = setInterval(() => {
    const secs = (performance.now() - started) / 1000;
    const rate = stats.results - lastResults;
    lastResults = stats.results;
    const p50 = pct(stats.rtts.slice(-300), 50);
    const p95 = pct(stats.rtts.slice(-300), 95);
    summaryOut.write(
      `[${secs.toFixed(0)}s] sessions ${clients.length}/${o.sessions}  sent ${stats.sent}  results ${stats.results} (${rate}/s)  RTT p50 ${p50?.toFixed(1) ?? '–'} ms p95 ${p95?.toFixed(1) ?? '–'} ms  dropped ${stats.dropped}  errors ${stats.errors}${o.seconds ? `  ${Math.min(100, (secs / o.seconds) * 100).toFixed(0)}%` : ''}\n`,
    );
  }, 1000);
  try {
    await Promise.all(
      Array.from({ length: o.sessions }, async () => {
        const client = await NodeClient.connect({ url: o.url, apiKey: o.apiKey, processor: o.processor, params: o.params });
        clients.push(client);
        const info = probeSource(o.source);
        const W = o.width - (o.width % 2);
        await client.warmUp(W, Math.max(2, Math.round((info.height * W) / info.width / 2) * 2));
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
          process.stderr.write(`error: ${e.code}: ${e.message}\n`);
        };
        for await (const frame of readFrames(o.source, { fps: o.fps, width: o.width, signal: abort.signal })) {
          client.send(frame);
          stats.sent++;
        }
        // Results of the last frames are still on their way.
        await new Promise((r) => setTimeout(r, 1000));
      }),
    );
  } finally {
    clearInterval(ticker);
    for (const c of clients) c.close();
  }
  const p50 = pct(stats.rtts, 50);
  const p95 = pct(stats.rtts, 95);
  summaryOut.write(
    `done: ${o.sessions} session(s), ${stats.sent} frames sent, ${stats.results} results (${((stats.results / Math.max(1, stats.sent)) * 100).toFixed(1)}%), RTT p50 ${p50?.toFixed(1) ?? '–'} ms, p95 ${p95?.toFixed(1) ?? '–'} ms, dropped ${stats.dropped}, errors ${stats.errors}\n`,
  );
  return stats.results > 0 ? 0 : 1;
}
