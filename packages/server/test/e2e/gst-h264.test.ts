import { readSse } from '../helpers/sse.js';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, test } from 'node:test';
import { CLIP, ensurePanClip, faceInClipFrame, onClipFace } from '../helpers/clip.js';
import { artifactsDir } from '../helpers/paths.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

/**
 * H.264 from an encoder that is not a browser: GStreamer's webrtcbin with x264enc (gst/gst-publisher.py) publishes the
 * pan clip to the server, by POST /webrtc/offer (results on its DataChannel) and by WHIP (results over SSE).
 *
 * (The engine before this one, libwebrtc through wrtc, was built without H.264: it answered this offer with the video
 * section rejected, `m=video 0`, and a 200 or 201 — no error, and no frame ever reached a processor.)
 */

const KEY = 'gst-key';
const PYTHON = process.env.GST_PYTHON ?? '/usr/bin/python3';
const PUBLISHER = fileURLToPath(new URL('./gst/gst-publisher.py', import.meta.url));
const SEND_SECONDS = 6;

type Box = { class: string; score: number; box: [number, number, number, number] };
type Result = { type: 'result'; frame_id: number; boxes: Box[]; width: number; height: number };
type Line = { publisher?: string; type?: string; [k: string]: unknown };

/** Why the publisher cannot run here (Python's GObject bindings, webrtcbin or x264enc missing), or undefined. */
function gstMissing(): string | undefined {
  const probe = [
    'import gi',
    'gi.require_version("Gst", "1.0"); gi.require_version("GstWebRTC", "1.0"); gi.require_version("GstSdp", "1.0")',
    'from gi.repository import Gst, GstWebRTC, GstSdp',
    'Gst.init(None)',
    'print(" ".join(e for e in ("webrtcbin", "nicesrc", "x264enc", "rtph264pay", "decodebin", "clocksync") if not Gst.ElementFactory.find(e)))',
  ].join('\n');
  try {
    const absent = execFileSync(PYTHON, ['-c', probe], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    return absent ? `GStreamer elements missing: ${absent} (scripts/test.sh installs them)` : undefined;
  } catch (err) {
    const why =
      String((err as { stderr?: string }).stderr ?? '')
        .trim()
        .split('\n')
        .at(-1) || (err as Error).message;
    return `${PYTHON} cannot load GStreamer's Python bindings (python3-gi, gir1.2-gst-plugins-bad-1.0; scripts/test.sh installs them): ${why}`;
  }
}
const missing = gstMissing();

interface PublisherRun {
  code: number | null;
  lines: Line[];
  /** Everything it printed, stdout and stderr. */
  log: string;
}

/** Runs gst-publisher.py; `onLine` sees each of its JSON lines as it comes, with a way to write a line to its stdin. */
function runPublisher(args: string[], onLine?: (line: Line, write: (s: string) => void) => void, timeoutMs = 60_000): Promise<PublisherRun> {
  return new Promise((resolve, reject) => {
    const proc = spawn(PYTHON, [PUBLISHER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines: Line[] = [];
    let log = '';
    let partial = '';
    const write = (s: string) => proc.stdin.write(s);
    proc.stdout.on('data', (d: Buffer) => {
      log += d.toString();
      partial += d.toString();
      let i: number;
      while ((i = partial.indexOf('\n')) >= 0) {
        const text = partial.slice(0, i);
        partial = partial.slice(i + 1);
        if (!text.startsWith('{')) continue;
        const line = JSON.parse(text) as Line;
        lines.push(line);
        onLine?.(line, write);
      }
    });
    proc.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('error', reject);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      proc.stdin.destroy();
      resolve({ code, lines, log });
    });
  });
}

/** The payload types of the answer's video section, its port, and the codec names of those types. */
function answerVideo(sdp: string): { port: number; codecs: string[] } {
  const m = /^m=video (\d+) [^ ]+ ([\d ]+)\r?$/m.exec(sdp);
  assert.ok(m, `the answer has no video section:\n${sdp}`);
  const pts = m[2]!.trim().split(' ');
  const codecs = pts.map((pt) => new RegExp(`^a=rtpmap:${pt} ([^/]+)/`, 'm').exec(sdp)?.[1] ?? '?');
  return { port: Number(m[1]), codecs };
}

/** Horizontal centre of a box, and of the face in clip frame `i`. */
const centreX = (b: [number, number, number, number]) => b[0] + b[2] / 2;
const faceCentreX = (i: number) => {
  const f = faceInClipFrame(i);
  return f.x + f.w / 2;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Checks that the results answer the frames sent, one by one: frame_id k is the clip's frame k (the publisher sends the
 * clip from its first frame, one frame per clip frame). Returns the numbers for the log.
 */
function checkResults(results: Result[], sent: number, label: string): string {
  assert.ok(sent >= SEND_SECONDS * CLIP.fps * 0.8, `${label}: the publisher sent only ${sent} frames in ${SEND_SECONDS} s`);
  const ids = results.map((r) => r.frame_id);
  assert.equal(new Set(ids).size, ids.length, `${label}: a frame_id answered twice`);
  assert.ok(
    ids.every((id) => Number.isInteger(id) && id >= 0 && id < sent),
    `${label}: frame_ids outside the ${sent} frames sent: ${ids.filter((id) => id >= sent).join(' ')}`,
  );
  assert.ok(
    results.every((r) => r.width === CLIP.width && r.height === CLIP.height),
    `${label}: frames of another size than the clip's`,
  );
  // ≥ 90 % of the frames sent are answered with one face box on the face.
  const boxed = results.filter((r) => r.boxes.length === 1 && r.boxes[0]!.class === 'face' && onClipFace(r.boxes[0]!.box, r.width));
  assert.ok(boxed.length >= sent * 0.9, `${label}: ${boxed.length} of ${sent} frames sent answered with a face box (${results.length} results)`);

  // The result of frame k describes frame k: the box follows the pan. The detector's box is not the hand-measured
  // face box (its centre sits a few pixels off, the same in every frame), so the error is taken against the median.
  const errors = boxed.map((r) => centreX(r.boxes[0]!.box) - faceCentreX(r.frame_id));
  const bias = median(errors);
  const off = errors.map((e) => Math.abs(e - bias));
  assert.ok(Math.abs(bias) <= 10, `${label}: box centres ${bias.toFixed(1)} px from the face's on average`);
  const within = off.filter((e) => e <= 6).length;
  assert.ok(within >= boxed.length * 0.95, `${label}: ${within}/${boxed.length} boxes within 6 px of the pan position of their frame_id`);
  // And no other frame fits better: over shifts of up to ±1 s, the residual is least within 2 frames of frame_id.
  // (The pan moves up to ~1 px a frame, so a shift of d frames costs up to d px.)
  const residual = (d: number) => {
    const e = boxed.map((r) => centreX(r.boxes[0]!.box) - faceCentreX(r.frame_id + d));
    const b = median(e);
    return e.reduce((s, x) => s + Math.abs(x - b), 0) / e.length;
  };
  let best = 0;
  for (let d = -CLIP.fps; d <= CLIP.fps; d++) if (residual(d) < residual(best)) best = d;
  assert.ok(Math.abs(best) <= 2, `${label}: boxes fit frame_id ${best > 0 ? '+' : ''}${best} best (mean error ${residual(best).toFixed(2)} px there)`);
  return (
    `${label}: ${sent} frames sent, ${results.length} results, ${boxed.length} with a face box (${((100 * boxed.length) / sent).toFixed(1)} %); ` +
    `box centre vs pan: offset ${bias.toFixed(1)} px, |error| median ${median(off).toFixed(2)} px, max ${Math.max(...off).toFixed(2)} px; best-fitting frame shift ${best}`
  );
}

/**
 * One second of the clip through a session of its own first: the face model's first inferences are slow (100-250 ms
 * each while it warms up), and the server keeps only the latest frame while one is in process, so a cold server
 * drops a dozen frames at the start that say nothing about H.264.
 */
async function warmUp(server: ServerProcess, clip: string): Promise<void> {
  const run = await runPublisher(['offer', server.url, KEY, clip, '1']);
  assert.equal(run.code, 0, `warm-up publisher exit ${run.code}:\n${run.log.slice(-3000)}\n--- server ---\n${server.output().slice(-3000)}`);
}

async function sessionsNow(server: ServerProcess): Promise<number> {
  return ((await (await fetch(`${server.url}/readyz`)).json()) as { sessions: number }).sessions;
}

describe('H.264 from GStreamer webrtcbin (x264enc, not a browser) into the server', { timeout: 180_000 }, () => {
  let server: ServerProcess | undefined;
  const logs = artifactsDir('logs');

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  test('POST /webrtc/offer with a DataChannel: H.264 answered, ≥ 90 % of frames get a face box, frame_id k is frame k', async (t) => {
    if (missing) return t.skip(missing);
    const clip = ensurePanClip();
    server = await startServerProcess([], { SIGHTLINE_API_KEYS: KEY });
    await warmUp(server, clip);
    const run = await runPublisher(['offer', server.url, KEY, clip, String(SEND_SECONDS), '--processor', 'face']);
    writeFileSync(`${logs}gst-h264-offer.log`, `${run.log}\n--- server ---\n${server.output()}`);
    const tail = `\n--- publisher ---\n${run.log.slice(-3000)}\n--- server ---\n${server.output().slice(-3000)}`;
    assert.equal(run.code, 0, `publisher exit ${run.code}${tail}`);

    const answer = run.lines.find((l) => l.publisher === 'answer');
    assert.ok(answer, `no answer${tail}`);
    const video = answerVideo(answer.sdp as string);
    assert.notEqual(video.port, 0, `the answer rejects the video (m=video 0)${tail}`);
    assert.deepEqual([...new Set(video.codecs)], ['H264'], `answer's video codecs: ${video.codecs.join(' ')}`);

    const sent = run.lines.find((l) => l.publisher === 'sent')?.frames as number;
    const results = run.lines.filter((l): l is Result => l.type === 'result');
    t.diagnostic(checkResults(results, sent, 'offer'));
    assert.deepEqual(
      run.lines.filter((l) => l.type === 'error'),
      [],
      'error messages on the DataChannel',
    );
    // The publisher DELETEd its session.
    assert.equal(await sessionsNow(server), 0);
  });

  test('WHIP with --video-codecs H264: 201 + Location, results over SSE, ≥ 90 % of frames with a face box, frame_id k is frame k', async (t) => {
    if (missing) return t.skip(missing);
    const clip = ensurePanClip();
    server = await startServerProcess(['--video-codecs', 'H264'], { SIGHTLINE_API_KEYS: KEY });
    await warmUp(server, clip);
    const url = server.url;
    const events: Array<{ event: string; data: Record<string, unknown> }> = [];
    let sse: Promise<unknown> | undefined;
    const run = await runPublisher(['whip', url, KEY, clip, String(SEND_SECONDS), '--processor', 'face', '--wait-stdin'], (line, write) => {
      if (line.publisher !== 'session') return;
      // Subscribe before the first frame: the publisher holds it until this line.
      sse = readSse(`${url}/sessions/${line.id as string}/events`, { headers: { 'api-key': KEY }, timeoutMs: 60_000, events, onOpen: () => write('go\n') });
      sse.catch(() => undefined); // awaited below
    });
    await sse;
    writeFileSync(`${logs}gst-h264-whip.log`, `${run.log}\n--- server ---\n${server.output()}`);
    const tail = `\n--- publisher ---\n${run.log.slice(-3000)}\n--- server ---\n${server.output().slice(-3000)}`;
    assert.equal(run.code, 0, `publisher exit ${run.code}${tail}`);

    const session = run.lines.find((l) => l.publisher === 'session');
    assert.match(String(session?.location), new RegExp(`^/whip/${String(session?.id)}$`));
    const answer = run.lines.find((l) => l.publisher === 'answer');
    assert.ok(answer, `no answer${tail}`);
    const video = answerVideo(answer.sdp as string);
    assert.notEqual(video.port, 0, `the answer rejects the video (m=video 0)${tail}`);
    assert.deepEqual([...new Set(video.codecs)], ['H264'], `answer's video codecs: ${video.codecs.join(' ')}`);

    const sent = run.lines.find((l) => l.publisher === 'sent')?.frames as number;
    const results = events.filter((e) => e.event === 'result').map((e) => e.data as unknown as Result);
    t.diagnostic(checkResults(results, sent, 'whip'));
    // The publisher's DELETE ended the session: the stream's last event says so.
    assert.deepEqual(events.at(-1), { event: 'end', data: { reason: 'deleted' } });
    assert.equal(await sessionsNow(server), 0);
  });

  test('an H.264-only offer to --video-codecs VP8: 400 unsupported_codec at once, naming the codecs supported; no session left', async (t) => {
    if (missing) return t.skip(missing);
    const clip = ensurePanClip();
    server = await startServerProcess(['--video-codecs', 'VP8'], { SIGHTLINE_API_KEYS: KEY });
    for (const mode of ['offer', 'whip']) {
      const run = await runPublisher([mode, server.url, KEY, clip, '1'], undefined, 40_000);
      const tail = `\n--- publisher ---\n${run.log.slice(-3000)}\n--- server ---\n${server.output().slice(-3000)}`;
      const refused = run.lines.find((l) => l.publisher === 'http_error');
      assert.ok(refused, `${mode}: the offer was not refused${tail}`);
      assert.equal(run.code, 2);
      assert.equal(refused.status, 400, `${mode}: ${String(refused.body)}`);
      const body = JSON.parse(refused.body as string) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'unsupported_codec', `${mode}: ${String(refused.body)}`);
      assert.match(body.error.message, /H264/, 'names what was offered');
      assert.match(body.error.message, /supported: VP8\b/, 'names what the server decodes');
      // At once: no ICE gathering, no wait for a connection.
      assert.ok((refused.ms as number) < 1000, `${mode}: refused after ${String(refused.ms)} ms`);
      t.diagnostic(`${mode}: ${refused.status} in ${String(refused.ms)} ms: ${String(refused.body)}`);
      assert.equal(await sessionsNow(server), 0, `${mode}: sessions left after the refusal`);
    }
  });
});
