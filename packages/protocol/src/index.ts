export * from './errors.js';
export * from './http.js';
export * from './messages.js';
export * from './frame-chunks.js';
export * from './audio.js';
export * from './encoded-frame-sender.js';
export * from './percentile.js';
export * from './zod-errors.js';
