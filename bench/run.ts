/**
 * `npm run bench`: the runtime bench (inference pipeline vs raw onnxruntime, batching, event-loop delay), the media
 * bench (JPEG/WebP decoding, chunk reassembly, Sobel, VAD), the codecs bench (in-process libavcodec decode/encode per
 * codec) and the WebRTC bench (per-frame RTT and server CPU with real Chromium sessions).
 * BENCH_ONLY=runtime|media|codecs|webrtc runs one.
 */
import { runRuntimeBench } from './runtime-bench.js';
import { runMediaBench } from './media-bench.js';
import { runCodecsBench } from './codecs-bench.js';
import { runWebrtcBench } from './webrtc-bench.js';

const only = process.env.BENCH_ONLY;
if (only === undefined || only === 'runtime') await runRuntimeBench();
if (only === undefined || only === 'media') await runMediaBench();
if (only === undefined || only === 'codecs') await runCodecsBench();
if (only === undefined || only === 'webrtc') await runWebrtcBench();
process.exit(0);
