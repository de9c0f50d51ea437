import { connect, OverlayRenderer, type ResultEvent, type ResultMessage, type SightlineSession, type StatsEvent } from '@sightline/client';
import { LineChart } from './charts.js';
import { defaultsOf, renderParamControls, type PropSchema } from './param-controls.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const video = $<HTMLVideoElement>('video');
const apiKey = $<HTMLInputElement>('apiKey');
const camera = $<HTMLSelectElement>('camera');
const mirror = $<HTMLInputElement>('mirror');
const processor = $<HTMLSelectElement>('processor');
const paramsBox = $<HTMLDivElement>('params');
const startBtn = $<HTMLButtonElement>('start');
const stopBtn = $<HTMLButtonElement>('stop');
const overlay = new OverlayRenderer($<HTMLCanvasElement>('overlay'), video);
const rttChart = new LineChart(
  $<HTMLCanvasElement>('chartRtt'),
  [
    { name: 'RTT p50', color: '#22e07a' },
    { name: 'p95', color: '#e3b341' },
  ],
  'ms',
);
const fpsChart = new LineChart(
  $<HTMLCanvasElement>('chartFps'),
  [
    { name: 'fps out', color: '#58a6ff' },
    { name: 'results/s', color: '#22e07a' },
    { name: 'dropped/s', color: '#ff6b6b' },
  ],
  '/s',
);

let session: SightlineSession | undefined;
/** For the console and for tests: the live session, the latest results and figures (bounded). */
const debug = {
  session: undefined as SightlineSession | undefined,
  results: [] as ResultMessage[],
  events: [] as Array<{ frameId: number; rttMs: number | undefined; sentAt: number | undefined; receivedAt: number; receivedMs: number; totalMs: number }>,
  rtts: [] as number[],
  errors: [] as string[],
  states: [] as string[],
  stats: undefined as StatsEvent | undefined,
};
(window as unknown as { sightlineDemo: typeof debug }).sightlineDemo = debug;
/** The SDK itself, for the console (and tests that bring their own media). */
(window as unknown as { sightline: { connect: typeof connect } }).sightline = { connect };

interface DemoConfig {
  basePath: string;
  devKey?: string;
}
const query = new URLSearchParams(location.search);
const config: DemoConfig = await fetch('demo-config.json')
  .then((r) => r.json() as Promise<DemoConfig>)
  .catch(() => ({ basePath: '' }));
apiKey.value = query.get('key') ?? localStorage.getItem('sightline.key') ?? config.devKey ?? '';
mirror.checked = query.get('mirror') === '1';
video.classList.toggle('mirror', mirror.checked);
mirror.onchange = () => video.classList.toggle('mirror', mirror.checked);

interface ProcessorInfo {
  name: string;
  description: string;
  params: { properties?: Record<string, PropSchema> };
}
let processors: ProcessorInfo[] = [];
/** Params chosen in the controls, per processor. */
const chosen = new Map<string, Record<string, unknown>>();
const sharedParams = ((): Record<string, unknown> | undefined => {
  try {
    return query.get('params') ? (JSON.parse(query.get('params')!) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
})();

function setState(s: string): void {
  if (s === 'connected') $('error').textContent = '';
  const el = $('state');
  el.textContent = s;
  el.className = `pill ${s}`;
  document.body.dataset.state = s;
  debug.states.push(s);
}

function showError(text: string): void {
  debug.errors.push(text);
  $('error').textContent = text;
}

/** Pickers and controls come from GET /v1/processors (the JSON Schema of each processor's params). */
async function loadProcessors(): Promise<void> {
  const res = await fetch(`${config.basePath}/v1/processors`, { headers: { 'api-key': apiKey.value } }).catch(() => undefined);
  if (!res?.ok) return;
  const body = (await res.json()) as { default: string; processors: ProcessorInfo[] };
  processors = body.processors;
  const want = query.get('processor') ?? body.default;
  processor.replaceChildren(...processors.map((p) => new Option(p.name, p.name, false, p.name === want)));
  if (sharedParams && processors.some((p) => p.name === want))
    chosen.set(want, { ...defaultsOf(processors.find((p) => p.name === want)!.params), ...sharedParams });
  showControls();
}

function showControls(): void {
  const info = processors.find((p) => p.name === processor.value);
  $('processorHelp').textContent = info?.description ?? '';
  if (!info) return void paramsBox.replaceChildren();
  const values = chosen.get(info.name) ?? defaultsOf(info.params);
  chosen.set(info.name, values);
  renderParamControls(paramsBox, info.params, values, (name, value) => {
    values[name] = value;
    updateShareLink();
    // Live: the running session switches without reconnecting.
    session?.setParams({ [name]: value }, processor.value).catch((err: Error) => showError(err.message));
  });
  updateShareLink();
}

processor.onchange = () => {
  showControls();
  session?.setParams(chosen.get(processor.value) ?? {}, processor.value).catch((err: Error) => showError(err.message));
};
apiKey.onchange = () => void loadProcessors();

async function listCameras(): Promise<void> {
  const devices = (await navigator.mediaDevices?.enumerateDevices().catch(() => [])) ?? [];
  const cams = devices.filter((d) => d.kind === 'videoinput');
  const current = camera.value;
  camera.replaceChildren(
    new Option('default camera', ''),
    ...cams.map((d, i) => new Option(d.label || `camera ${i + 1}`, d.deviceId, false, d.deviceId === current)),
  );
}
camera.onchange = async () => {
  if (!session) return;
  await stop();
  await start();
};

function updateShareLink(): void {
  const u = new URL(location.href);
  u.search = '';
  u.searchParams.set('processor', processor.value);
  const p = chosen.get(processor.value);
  if (p) u.searchParams.set('params', JSON.stringify(p));
  if ($<HTMLInputElement>('shareKey').checked && apiKey.value) u.searchParams.set('key', apiKey.value);
  u.searchParams.set('autostart', '1');
  $<HTMLInputElement>('shareUrl').value = u.toString();
}
$<HTMLInputElement>('shareKey').onchange = updateShareLink;
$('share').onclick = async () => {
  updateShareLink();
  await navigator.clipboard?.writeText($<HTMLInputElement>('shareUrl').value).catch(() => undefined);
  $<HTMLInputElement>('shareUrl').select();
};

function onResult(e: ResultEvent): void {
  overlay.update(e.message);
  debug.results.push(e.message);
  debug.events.push({
    frameId: e.message.frame_id,
    rttMs: e.rttMs,
    sentAt: e.sentAt,
    receivedAt: e.receivedAt,
    receivedMs: e.message.timing.received_ms,
    totalMs: e.message.timing.total_ms,
  });
  if (e.rttMs !== undefined) {
    debug.rtts.push(e.rttMs);
    $('rtt').textContent = `${e.rttMs.toFixed(1)} ms`;
  }
  for (const arr of [debug.results, debug.events, debug.rtts]) if (arr.length > 2000) arr.splice(0, 1000);
  $('inf').textContent =
    `${e.message.timing.inference_ms.toFixed(1)} ms${e.message.timing.batch_size && e.message.timing.batch_size > 1 ? ` (batch ${e.message.timing.batch_size})` : ''}`;
  $('dropped').textContent = String(e.message.dropped);
  $('boxes').textContent = e.message.labels
    ? e.message.labels.map((l) => `${l.class} ${(l.score * 100).toFixed(0)}%`).join(', ')
    : String(e.message.boxes.length);
  $('last').textContent = JSON.stringify(e.message, null, 1);
}

let lastDropped = 0;
function onStats(s: StatsEvent): void {
  debug.stats = s;
  const f = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(1));
  $('rttP').textContent = `${f(s.rttP50)} / ${f(s.rttP95)} ms`;
  $('fps').textContent = `${f(s.framesSentPerSecond)} / ${s.resultsPerSecond.toFixed(1)}`;
  $('latency').textContent = s.latencyMethod === 'none' ? 'RTT not measurable in this browser' : `RTT via ${s.latencyMethod}`;
  const t = performance.now();
  rttChart.push(t, [s.rttP50, s.rttP95]);
  fpsChart.push(t, [s.framesSentPerSecond, s.resultsPerSecond, Math.max(0, s.dropped - lastDropped)]);
  lastDropped = s.dropped;
}

async function start(): Promise<void> {
  startBtn.disabled = true;
  $('error').textContent = '';
  setState('connecting');
  try {
    localStorage.setItem('sightline.key', apiKey.value);
    session = await connect({
      url: location.origin + config.basePath,
      apiKey: apiKey.value,
      processor: processor.value,
      params: chosen.get(processor.value) ?? {},
      media: { video: { width: 640, height: 480, ...(camera.value ? { deviceId: { exact: camera.value } } : {}) }, audio: false },
      // ?transport=datachannel: JPEG frames on the DataChannel instead of a video track.
      ...(query.get('transport') === 'datachannel' ? { transport: 'datachannel' as const } : {}),
      // ?hints=0: send the camera's full size and rate even when the server's capture hint asks for less.
      ...(query.get('hints') === '0' ? { ignoreCaptureHints: true } : {}),
    });
    debug.session = session;
    video.srcObject = session.stream;
    session.on('result', onResult);
    session.on('stats', onStats);
    session.on('state', setState);
    session.on('error', (e) => showError(`${e.code}: ${e.message}`));
    setState(session.state);
    stopBtn.disabled = false;
    void listCameras();
  } catch (err) {
    setState('failed');
    showError(err instanceof Error ? err.message : String(err));
    startBtn.disabled = false;
  }
}

async function stop(): Promise<void> {
  stopBtn.disabled = true;
  await session?.close();
  session = undefined;
  overlay.update(undefined);
  video.srcObject = null;
  startBtn.disabled = false;
  setState('idle');
}

startBtn.onclick = () => void start();
stopBtn.onclick = () => void stop();
await loadProcessors();
void listCameras();
if (query.get('autostart') === '1') void start();
