/**
 * `npm run bench`: the runtime bench (inference pipeline vs raw onnxruntime, batching, event-loop delay) and the
 * WebRTC bench (per-frame RTT and server CPU with real Chromium sessions). BENCH_ONLY=runtime|webrtc runs one.
 */
import { runRuntimeBench } from './runtime-bench.js';
import { runWebrtcBench } from './webrtc-bench.js';

const only = process.env.BENCH_ONLY;
if (only !== 'webrtc') await runRuntimeBench();
if (only !== 'runtime') await runWebrtcBench();
process.exit(0);
