import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constantHeadsModel, meanColourClassifier, type Dim } from './onnx-builder.js';

/**
 * Small ONNX models with known outputs, written to a temp dir. For a 640x480 frame letterboxed into the 64x64 YOLO
 * input (scale 0.1, 8 px of padding top and bottom), the expected boxes in frame pixels are given beside each.
 */
export const EXPECTED = {
  /** YOLO input (22, 27)–(42, 37) → frame [220, 190, 200, 100]. */
  cat: { class: 'cat', score: 0.9, box: [220, 190, 200, 100] },
  /** YOLO input (6, 46)–(14, 54) → frame [60, 380, 80, 80]. */
  dog: { class: 'dog', score: 0.7, box: [60, 380, 80, 80] },
  /** SSD normalised (ymin .25, xmin .25, ymax .75, xmax .5) → frame [160, 120, 160, 240]. */
  ssdPerson: { class: 'person', score: 0.95, box: [160, 120, 160, 240] },
} as const;

const YOLO_META = { names: "{0: 'cat', 1: 'dog'}", task: 'detect', imgsz: '[64, 64]', stride: '32' };

export interface TestModels {
  dir: string;
  yolov8: string;
  yolov8Fixed: string;
  yoloE2E: string;
  yolov5: string;
  ssd: string;
  colours: string;
}

export function writeTestModels(): TestModels {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-models-'));
  const write = (name: string, bytes: Uint8Array): string => {
    const f = join(dir, name);
    writeFileSync(f, bytes);
    return f;
  };
  const images = (batch: Dim = 'N') => ({ name: 'images', type: 'float32' as const, shape: [batch, 3, 64, 64] });
  // [6, 8]: rows cx, cy, w, h, score(cat), score(dog); columns = 8 anchors (as in real exports, more anchors than
  // rows). Anchor 1 duplicates anchor 0 (NMS removes it); anchor 3 is under the default min_score.
  const z4 = [0, 0, 0, 0];
  const v8 = [
    [32, 33, 10, 50, ...z4],
    [32, 32, 50, 10, ...z4],
    [20, 20, 8, 4, ...z4],
    [10, 10, 8, 4, ...z4],
    [0.9, 0.8, 0.1, 0.1, ...z4],
    [0.1, 0.05, 0.7, 0.2, ...z4],
  ];
  const v5Rows = [
    [32, 32, 20, 10, 0.9, 1, 0],
    [33, 32, 20, 10, 0.8, 1, 0],
    [10, 50, 8, 8, 0.8, 0.125, 0.875],
    [50, 10, 4, 4, 0.1, 1, 0],
  ];
  while (v5Rows.length < 8) v5Rows.push([0, 0, 0, 0, 0, 0, 0]);
  return {
    dir,
    yolov8: write('yolov8-test.onnx', constantHeadsModel(images(), [{ name: 'output0', shape: ['N', 6, 8], values: v8 }], YOLO_META)),
    yolov8Fixed: write('yolov8-fixed.onnx', constantHeadsModel(images(1), [{ name: 'output0', shape: [1, 6, 8], values: v8 }], YOLO_META)),
    yoloE2E: write(
      'yolo-e2e.onnx',
      constantHeadsModel(
        images(),
        [
          {
            name: 'output0',
            shape: ['N', 3, 6],
            values: [
              [22, 27, 42, 37, 0.9, 0],
              [6, 46, 14, 54, 0.7, 1],
              [0, 0, 1, 1, 0.1, 0],
            ],
          },
        ],
        YOLO_META,
      ),
    ),
    yolov5: write('yolov5-test.onnx', constantHeadsModel(images(), [{ name: 'output0', shape: ['N', 8, 7], values: v5Rows }], YOLO_META)),
    ssd: write(
      'ssd-test.onnx',
      constantHeadsModel({ name: 'image_tensor', type: 'uint8', shape: ['N', 300, 300, 3] }, [
        {
          name: 'detection_boxes',
          shape: ['N', 2, 4],
          values: [
            [0.25, 0.25, 0.75, 0.5],
            [0, 0, 0.1, 0.1],
          ],
        },
        { name: 'detection_scores', shape: ['N', 2], values: [0.95, 0.1] },
        { name: 'detection_classes', shape: ['N', 2], values: [1, 2] },
        { name: 'num_detections', shape: ['N'], values: [2] },
      ]),
    ),
    // Logits from the mean of each (ImageNet-normalised) channel: red, green, blue, or white.
    colours: write(
      'colours.onnx',
      meanColourClassifier(
        32,
        [
          [1, 0, 0, 0.6],
          [0, 1, 0, 0.6],
          [0, 0, 1, 0.6],
        ],
        { names: "{0: 'red', 1: 'green', 2: 'blue', 3: 'white'}", task: 'classify' },
      ),
    ),
  };
}
