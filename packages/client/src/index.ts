export { connect, SightlineSession, SightlineError, type ConnectOptions, type ResultEvent, type StatsEvent, type SessionState } from './session.js';
export { SendTimeTracker, latencyApi, type LatencyMethod } from './send-time-tracker.js';
export { drawBoxes, OverlayRenderer, type OverlayOptions } from './overlay.js';
export type { ResultMessage, Box } from '@sightline/protocol/wire';
export { JpegCapture, type JpegCaptureOptions } from './jpeg-capture.js';
