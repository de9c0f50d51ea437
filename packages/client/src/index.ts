export { connect, SightlineSession, SightlineError, type ConnectOptions, type ResultEvent, type SessionState } from './session.js';
export { SendTimeTracker, supportsEncodedStreams } from './send-time-tracker.js';
export { drawBoxes } from './overlay.js';
export type { ResultMessage, Box } from '@sightline/protocol';
