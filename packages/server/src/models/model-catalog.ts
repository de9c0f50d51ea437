import { fileURLToPath } from 'node:url';
import type { BlazeFaceVariant } from './blazeface/blazeface-model.js';

/** A model a worker can load: its name, the runtime adapter that runs it, and where its file is. */
export interface ModelSpec {
  name: string;
  adapter: 'blazeface';
  file: string;
  variant: BlazeFaceVariant;
}

// src/models and dist/models are both two levels below the package root, where models/ lives.
const modelsDir = fileURLToPath(new URL('../../models/', import.meta.url));

/** The models shipped with the server. */
export const BUILTIN_MODELS: readonly ModelSpec[] = [
  {
    name: 'blazeface-back',
    adapter: 'blazeface',
    file: `${modelsDir}blazeface/face_detection_back_256x256_barracuda.onnx`,
    variant: 'back',
  },
  {
    name: 'blazeface-front',
    adapter: 'blazeface',
    file: `${modelsDir}blazeface/face_detection_front_128x128_barracuda.onnx`,
    variant: 'front',
  },
];
