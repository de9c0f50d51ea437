/**
 * Where the video codecs run (`--codec-device`): the CPU, or one GPU through FFmpeg's hardware acceleration. The
 * device is opened once, at server start, by actually creating FFmpeg's hardware device context (what `ffmpeg
 * -init_hw_device` does); every decoder and encoder then shares that one context.
 *
 * - `cpu`: nothing hardware is touched.
 * - `cuda`: NVIDIA. Decoders use NVDEC (the native decoders' `cuda` hwaccel), encoders NVENC (h264/hevc/av1_nvenc).
 * - `vaapi`: Intel or AMD through libva, on a DRM render node (`SIGHTLINE_VAAPI_DEVICE`, else each /dev/dri/renderD*
 *   in turn). Decoders use the `vaapi` hwaccel, encoders h264/hevc/vp8/vp9/av1_vaapi.
 * - `qsv`: Intel Quick Sync through oneVPL. Encoders h264/hevc/vp9/av1_qsv; decoding uses a VAAPI device derived from
 *   the QSV one (FFmpeg's native decoders have no QSV hwaccel), or the CPU if that can't be derived.
 * - `auto`: cuda, then vaapi, then qsv; the first that opens is used, else the CPU, without complaint.
 *
 * An explicit device that does not open is an Error saying what was asked, what failed (FFmpeg's own words included)
 * and what to do. A codec the device can't run (no hardware encoder for VP8 on NVIDIA, say) runs on the CPU, and the
 * device's `notice` says so once.
 */
import { accessSync, constants as fsConstants, readdirSync } from 'node:fs';
import { FFmpegError, HardwareDeviceContext, Log } from 'node-av/lib';
import {
  AV_HWDEVICE_TYPE_CUDA,
  AV_HWDEVICE_TYPE_QSV,
  AV_HWDEVICE_TYPE_VAAPI,
  AV_LOG_VERBOSE,
  AV_LOG_WARNING,
  AV_PIX_FMT_CUDA,
  AV_PIX_FMT_VAAPI,
  type AVHWDeviceType,
  type AVLogLevel,
  type AVPixelFormat,
} from 'node-av/constants';
import './ffmpeg-log.js';

/** What `--codec-device` accepts. */
export type HwDevice = 'auto' | 'cpu' | 'vaapi' | 'cuda' | 'qsv';
export const CODEC_DEVICES: readonly HwDevice[] = ['auto', 'cpu', 'vaapi', 'cuda', 'qsv'];
/** The hardware kinds, in the order `auto` tries them. */
export type HardwareKind = 'cuda' | 'vaapi' | 'qsv';
export const AUTO_ORDER: readonly HardwareKind[] = ['cuda', 'vaapi', 'qsv'];

/** The render node tried for VAAPI when SIGHTLINE_VAAPI_DEVICE is unset and /dev/dri lists none. */
export const DEFAULT_VAAPI_NODE = '/dev/dri/renderD128';

/** The hwaccel a decoder attaches: its device context and the pixel format the decoder then outputs. */
export interface DecodeAccel {
  kind: 'cuda' | 'vaapi';
  type: AVHWDeviceType;
  context: HardwareDeviceContext;
  pixelFormat: AVPixelFormat;
}

/** An opened codec device, shared by every decoder and encoder of the server. */
export interface CodecDevice {
  /** Where the codecs run. */
  readonly kind: 'cpu' | HardwareKind;
  /** What was opened, for logs: 'cpu', 'cuda', 'vaapi (/dev/dri/renderD128)', 'qsv'. */
  readonly description: string;
  /** FFmpeg's device context, which encoders take; undefined on the CPU. */
  readonly context: HardwareDeviceContext | undefined;
  /** What decoders use; undefined where they decode on the CPU (the CPU, or QSV without a derived VAAPI device). */
  readonly decode: DecodeAccel | undefined;
  /** Tells the operator that a codec runs elsewhere than asked; each distinct message once. */
  notice(message: string): void;
  /** Drops this reference to the device context (codecs still open keep their own). Safe to call twice. */
  close(): void;
}

export interface OpenCodecDeviceOptions {
  /** Where SIGHTLINE_VAAPI_DEVICE is read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where `auto`'s choice and the codecs' notices go; without it, nowhere. */
  log?: (message: string) => void;
}

/** The CPU: no hardware, nothing to close. */
export const CPU_CODEC_DEVICE: CodecDevice = Object.freeze({
  kind: 'cpu' as const,
  description: 'cpu',
  context: undefined,
  decode: undefined,
  notice: () => undefined,
  close: () => undefined,
});

/**
 * Opens the device `requested` names: the CPU for `cpu`; the first of cuda, vaapi, qsv that opens (else the CPU) for
 * `auto`; the named device or an Error for the others. Async only because FFmpeg's log lines (quoted in the error)
 * arrive on the event loop.
 */
export async function openCodecDevice(requested: HwDevice, options: OpenCodecDeviceOptions = {}): Promise<CodecDevice> {
  if (requested === 'cpu') return CPU_CODEC_DEVICE;
  const env = options.env ?? process.env;
  if (requested === 'auto') {
    const failures: string[] = [];
    for (const kind of AUTO_ORDER) {
      const attempt = await tryOpen(kind, env);
      if (attempt.device) {
        const device = withNotices(attempt.device, options.log);
        options.log?.(`codec device: ${device.description} (--codec-device auto)`);
        return device;
      }
      failures.push(`${kind}: ${attempt.failure}`);
    }
    options.log?.(`codec device: cpu (--codec-device auto found no hardware device; ${failures.join('; ')})`);
    return CPU_CODEC_DEVICE;
  }
  if (!AUTO_ORDER.includes(requested)) {
    throw new Error(`--codec-device: unknown device ${JSON.stringify(requested)} (one of ${CODEC_DEVICES.join(', ')})`);
  }
  const attempt = await tryOpen(requested, env);
  if (attempt.device) return withNotices(attempt.device, options.log);
  throw new Error(`--codec-device ${requested}: ${attempt.failure}. ${REMEDY[requested]}`);
}

const REMEDY: Readonly<Record<HardwareKind, string>> = {
  cuda:
    'CUDA needs an NVIDIA GPU and its driver visible to this process (in a container: the NVIDIA Container Toolkit, ' +
    '`docker run --gpus all -e NVIDIA_DRIVER_CAPABILITIES=compute,video,utility`). ' +
    'Or use --codec-device cpu (or auto, which falls back to the CPU)',
  vaapi:
    'VAAPI needs an Intel or AMD GPU render node readable and writable by this user (in a container: ' +
    "`--device /dev/dri` and the node's group, e.g. `--group-add render`) and its VA driver (iHD/i965 for Intel, " +
    'radeonsi for AMD); SIGHTLINE_VAAPI_DEVICE picks the node. Or use --codec-device cpu (or auto, which falls back to the CPU)',
  qsv:
    'QSV needs an Intel GPU render node (in a container: `--device /dev/dri`) and the oneVPL runtime (libmfx-gen) with ' +
    'the iHD VA driver. Or use --codec-device cpu (or auto, which falls back to the CPU)',
};

interface Opened {
  kind: HardwareKind;
  description: string;
  context: HardwareDeviceContext;
  decode: DecodeAccel | undefined;
  /** Contexts to free with the device (a derived one). */
  owned: HardwareDeviceContext[];
}

type Attempt = { device: Opened; failure?: undefined } | { device?: undefined; failure: string };

async function tryOpen(kind: HardwareKind, env: NodeJS.ProcessEnv): Promise<Attempt> {
  switch (kind) {
    case 'cuda': {
      const r = await createContext(AV_HWDEVICE_TYPE_CUDA, null);
      if (!r.context) return { failure: `could not open the CUDA device: ${r.failure}` };
      return {
        device: {
          kind,
          description: 'cuda',
          context: r.context,
          decode: { kind: 'cuda', type: AV_HWDEVICE_TYPE_CUDA, context: r.context, pixelFormat: AV_PIX_FMT_CUDA },
          owned: [r.context],
        },
      };
    }
    case 'vaapi': {
      const chosen = env.SIGHTLINE_VAAPI_DEVICE?.trim();
      const nodes = chosen ? [chosen] : renderNodes();
      const tried: string[] = [];
      for (const node of nodes) {
        const access = nodeAccess(node);
        if (access !== undefined) {
          tried.push(`${node} ${access}`);
          continue;
        }
        const r = await createContext(AV_HWDEVICE_TYPE_VAAPI, node);
        if (r.context) {
          return {
            device: {
              kind,
              description: `vaapi (${node})`,
              context: r.context,
              decode: { kind: 'vaapi', type: AV_HWDEVICE_TYPE_VAAPI, context: r.context, pixelFormat: AV_PIX_FMT_VAAPI },
              owned: [r.context],
            },
          };
        }
        tried.push(`${node}: ${r.failure}`);
      }
      const source = chosen ? ' (SIGHTLINE_VAAPI_DEVICE)' : '';
      return { failure: `could not open a VAAPI device${source}: ${tried.join('; ')}` };
    }
    case 'qsv': {
      const r = await createContext(AV_HWDEVICE_TYPE_QSV, null);
      if (!r.context) return { failure: `could not open the Intel Quick Sync (QSV) device: ${r.failure}` };
      // Decoders: FFmpeg's native decoders have no QSV hwaccel, but QSV on Linux sits on a VAAPI device.
      const vaapi = new HardwareDeviceContext();
      const derived = vaapi.createDerived(r.context, AV_HWDEVICE_TYPE_VAAPI) >= 0;
      if (!derived) vaapi.free();
      return {
        device: {
          kind,
          description: 'qsv',
          context: r.context,
          decode: derived ? { kind: 'vaapi', type: AV_HWDEVICE_TYPE_VAAPI, context: vaapi, pixelFormat: AV_PIX_FMT_VAAPI } : undefined,
          owned: derived ? [r.context, vaapi] : [r.context],
        },
      };
    }
  }
}

/** The DRM render nodes, in order; the usual first one when /dev/dri lists none (so the error names it). */
function renderNodes(): string[] {
  let names: string[] = [];
  try {
    names = readdirSync('/dev/dri').filter((n) => /^renderD\d+$/.test(n));
  } catch {
    // no /dev/dri at all
  }
  names.sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)));
  return names.length > 0 ? names.map((n) => `/dev/dri/${n}`) : [DEFAULT_VAAPI_NODE];
}

/** Why `node` can't be used, or undefined if this process may open it for reading and writing. */
function nodeAccess(node: string): string | undefined {
  try {
    accessSync(node, fsConstants.R_OK | fsConstants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'does not exist';
    if (code === 'EACCES' || code === 'EPERM') return 'is not readable and writable by this user (is it in the node\'s group, e.g. "render"?)';
    return `can't be opened (${code ?? String(err)})`;
  }
}

/**
 * av_hwdevice_ctx_create, with FFmpeg's log lines caught (they explain failures better than the error code: "Cannot
 * load libcuda.so.1") instead of printed. node-av delivers log callbacks on the event loop, hence the short wait.
 */
async function createContext(
  type: AVHWDeviceType,
  device: string | null,
): Promise<{ context: HardwareDeviceContext; failure?: undefined } | { context?: undefined; failure: string }> {
  const said: { level: AVLogLevel; line: string }[] = [];
  const level: AVLogLevel = Log.getLevel();
  Log.setCallback(
    (lvl, message) => {
      const line = message.trim();
      if (line && said.length < 50 && !said.some((s) => s.line === line)) said.push({ level: lvl, line });
    },
    { maxLevel: AV_LOG_VERBOSE },
  );
  const context = new HardwareDeviceContext();
  let ret: number;
  try {
    ret = context.create(type, device, null);
  } finally {
    await new Promise((resolve) => setTimeout(resolve, 20));
    Log.resetCallback();
    Log.setLevel(level);
  }
  if (ret >= 0) return { context };
  context.free();
  // Its errors and warnings; else (libva and oneVPL explain at verbose level) its last words.
  const errors = said.filter((s) => s.level <= AV_LOG_WARNING);
  const lines = (errors.length > 0 ? errors.slice(0, 3) : said.slice(-2)).map((s) => JSON.stringify(s.line));
  return { failure: `${FFmpegError.strerror(ret)}${lines.length > 0 ? ` (FFmpeg: ${lines.join(', ')})` : ''}` };
}

function withNotices(opened: Opened, log: ((message: string) => void) | undefined): CodecDevice {
  const said = new Set<string>();
  let closed = false;
  return {
    kind: opened.kind,
    description: opened.description,
    context: opened.context,
    decode: opened.decode,
    notice: (message) => {
      if (said.has(message)) return;
      said.add(message);
      log?.(message);
    },
    close: () => {
      if (closed) return;
      closed = true;
      for (const c of opened.owned) c.free();
    },
  };
}
