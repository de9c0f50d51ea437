import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Device } from './adapters/model-info.js';

/**
 * Fails early, with the way out, when a GPU device is asked for but onnxruntime-node's CUDA/TensorRT execution
 * providers are not installed (they are downloaded by its install script, which this project skips by default).
 */
export function checkDevice(device: Device): void {
  if (device === 'cpu') return;
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  const dir = join(dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
  const needed = ['libonnxruntime_providers_shared.so', device === 'tensorrt' ? 'libonnxruntime_providers_tensorrt.so' : 'libonnxruntime_providers_cuda.so'];
  const missing = needed.filter((f) => !existsSync(join(dir, f)));
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `--device ${device}: onnxruntime-node ships GPU execution providers for linux/x64 only (this is ${process.platform}/${process.arch}); use --device cpu`,
    );
  }
  if (missing.length > 0) {
    throw new Error(
      `--device ${device}: onnxruntime-node's ${device === 'tensorrt' ? 'TensorRT' : 'CUDA'} execution provider is not installed ` +
        `(missing ${missing.join(', ')} in ${dir}). Install it with network access: ` +
        `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --foreground-scripts ` +
        `(the project's .npmrc sets onnxruntime-node-install=skip; the environment variable overrides it). ` +
        `The machine needs an NVIDIA driver with CUDA 12 and cuDNN 9${device === 'tensorrt' ? ', and TensorRT 10' : ''}. Or use --device cpu.`,
    );
  }
}
