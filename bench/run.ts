/**
 * `npm run bench`: the runtime bench (inference pipeline vs raw onnxruntime, batching, event-loop delay), the media
 * bench (JPEG/WebP decoding, chunk reassembly, Sobel, VAD), the codecs bench (in-process libavcodec decode/encode per
 * codec), the WebRTC bench (per-frame RTT and server CPU with real Chromium sessions), the seed-client bench (the
 * seed's Python client as publisher), the connect bench (offer → first result, trickle and not), the recording
 * bench (ffmpeg pipe against in-process encoding), the infer bench (`sightline infer-server`: requests/s, latency,
 * server-side batching) and the remote bench (sessions with the model in the media server against on an infer-server).
 * BENCH_ONLY=runtime|media|codecs|webrtc|seed|connect|recording|infer|remote runs one.
 */
import { runRuntimeBench } from './runtime-bench.js';
import { runMediaBench } from './media-bench.js';
import { runCodecsBench } from './codecs-bench.js';
import { runWebrtcBench } from './webrtc-bench.js';
import { runSeedBench } from './seed-bench.js';
import { runConnectBench } from './connect-bench.js';
import { runRecordingBench } from './recording-bench.js';
import { runInferBench } from './infer-bench.js';
import { runRemoteBench } from './remote-bench.js';

const only = process.env.BENCH_ONLY;
if (only === undefined || only === 'runtime') await runRuntimeBench();
if (only === undefined || only === 'media') await runMediaBench();
if (only === undefined || only === 'codecs') await runCodecsBench();
if (only === undefined || only === 'webrtc') await runWebrtcBench();
if (only === undefined || only === 'seed') await runSeedBench();
if (only === undefined || only === 'connect') await runConnectBench();
if (only === undefined || only === 'recording') await runRecordingBench();
if (only === undefined || only === 'infer') await runInferBench();
if (only === undefined || only === 'remote') await runRemoteBench();
process.exit(0);
