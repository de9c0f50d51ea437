import type { DecodeParams } from './detections.js';
import type { I420Frame } from './i420.js';

/** One frame to run, with the decode parameters of the session it came from. */
export interface RunItem {
  frame: I420Frame;
  params: DecodeParams;
}

/** A detection in frame pixels. */
export interface Detection {
  label: string;
  classId: number;
  score: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** What a model returns for one frame. */
export interface ItemOutput {
  detections: Detection[];
  /** Classifiers: top-k labels. */
  labels?: Array<{ label: string; classId: number; score: number }>;
}

/** Where a batch's time went. */
export interface StageTimes {
  preprocessMs: number;
  modelMs: number;
  decodeMs: number;
}
