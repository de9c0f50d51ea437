import { connect, drawBoxes, type ResultEvent, type ResultMessage, type SightlineSession } from '@sightline/client';
import { defaultsOf, renderParamControls, type PropSchema } from './param-controls.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const video = $<HTMLVideoElement>('video');
const overlay = $<HTMLCanvasElement>('overlay');
const apiKey = $<HTMLInputElement>('apiKey');
const processor = $<HTMLSelectElement>('processor');
const paramsBox = $<HTMLDivElement>('params');
const startBtn = $<HTMLButtonElement>('start');
const stopBtn = $<HTMLButtonElement>('stop');

let session: SightlineSession | undefined;
/** For the console and for tests: the live session and the latest results (bounded). */
const debug = { session: undefined as SightlineSession | undefined, results: [] as ResultMessage[], rtts: [] as number[], errors: [] as string[] };
(window as unknown as { sightlineDemo: typeof debug }).sightlineDemo = debug;
let latest: ResultMessage | undefined;
let latestAt = 0;
const rtts: number[] = [];
const arrivals: number[] = [];

interface DemoConfig {
  basePath: string;
  devKey?: string;
}
const params = new URLSearchParams(location.search);
const config: DemoConfig = await fetch('demo-config.json').then((r) => r.json() as Promise<DemoConfig>).catch(() => ({ basePath: '' }));
apiKey.value = params.get('key') ?? localStorage.getItem('sightline.key') ?? config.devKey ?? '';

interface ProcessorInfo {
  name: string;
  description: string;
  params: { properties?: Record<string, PropSchema> };
}
let processors: ProcessorInfo[] = [];
/** Params chosen in the controls, per processor. */
const chosen = new Map<string, Record<string, unknown>>();

/** Pickers and controls come from GET /v1/processors (JSON Schema of each processor's params). */
async function loadProcessors(): Promise<void> {
  const res = await fetch(`${config.basePath}/v1/processors`, { headers: { 'api-key': apiKey.value } }).catch(() => undefined);
  if (!res?.ok) return;
  const body = (await res.json()) as { default: string; processors: ProcessorInfo[] };
  processors = body.processors;
  const want = params.get('processor') ?? body.default;
  processor.replaceChildren(...processors.map((p) => new Option(p.name, p.name, false, p.name === want)));
  showControls();
}

function showControls(): void {
  const info = processors.find((p) => p.name === processor.value);
  $('processorHelp').textContent = info?.description ?? '';
  if (!info) return paramsBox.replaceChildren();
  const values = chosen.get(info.name) ?? defaultsOf(info.params);
  chosen.set(info.name, values);
  renderParamControls(paramsBox, info.params, values, (name, value) => {
    values[name] = value;
    // Live: the running session switches without reconnecting.
    session?.setParams({ [name]: value }, processor.value).catch((err: Error) => ($('error').textContent = err.message));
  });
}

processor.onchange = () => {
  showControls();
  session?.setParams(chosen.get(processor.value) ?? {}, processor.value).catch((err: Error) => ($('error').textContent = err.message));
};
apiKey.onchange = () => void loadProcessors();
await loadProcessors();

function setState(s: string): void {
  const el = $('state');
  el.textContent = s;
  el.className = `pill ${s}`;
  document.body.dataset.state = s;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

function onResult(e: ResultEvent): void {
  latest = e.message;
  latestAt = performance.now();
  arrivals.push(latestAt);
  while (arrivals.length && arrivals[0]! < latestAt - 2000) arrivals.shift();
  if (e.rttMs !== undefined) {
    rtts.push(e.rttMs);
    if (rtts.length > 300) rtts.shift();
    $('rtt').textContent = `${e.rttMs.toFixed(1)} ms`;
    $('rttP').textContent = `${pct(rtts, 50).toFixed(1)} / ${pct(rtts, 95).toFixed(1)} ms`;
  }
  $('fps').textContent = (arrivals.length / 2).toFixed(1);
  $('inf').textContent = `${e.message.timing.inference_ms.toFixed(1)} ms`;
  $('dropped').textContent = String(e.message.dropped);
  $('boxes').textContent = e.message.labels ? e.message.labels.map((l) => `${l.class} ${(l.score * 100).toFixed(0)}%`).join(', ') : String(e.message.boxes.length);
  $('last').textContent = JSON.stringify(e.message, null, 1);
  debug.results.push(e.message);
  if (e.rttMs !== undefined) debug.rtts.push(e.rttMs);
  if (debug.results.length > 2000) debug.results.splice(0, 1000);
  if (debug.rtts.length > 2000) debug.rtts.splice(0, 1000);
}

function paint(): void {
  // Boxes older than 500 ms are stale: stop showing them.
  drawBoxes(overlay, video, latest && performance.now() - latestAt < 500 ? latest : undefined);
  requestAnimationFrame(paint);
}
requestAnimationFrame(paint);

startBtn.onclick = async () => {
  startBtn.disabled = true;
  $('error').textContent = '';
  setState('connecting');
  try {
    localStorage.setItem('sightline.key', apiKey.value);
    const p = chosen.get(processor.value) ?? {};
    session = await connect({
      url: location.origin + config.basePath,
      apiKey: apiKey.value,
      processor: processor.value,
      params: p,
      media: { video: { width: 640, height: 480 }, audio: false },
    });
    debug.session = session;
    video.srcObject = session.stream;
    session.on('result', onResult);
    session.on('state', setState);
    session.on('error', (e) => {
      debug.errors.push(`${e.code}: ${e.message}`);
      $('error').textContent = `${e.code}: ${e.message}`;
    });
    stopBtn.disabled = false;
  } catch (err) {
    setState('failed');
    debug.errors.push(String(err));
    $('error').textContent = err instanceof Error ? err.message : String(err);
    startBtn.disabled = false;
  }
};

stopBtn.onclick = async () => {
  stopBtn.disabled = true;
  await session?.close();
  session = undefined;
  latest = undefined;
  video.srcObject = null;
  startBtn.disabled = false;
  setState('idle');
};

if (params.get('autostart') === '1') startBtn.click();
