export { NodeClient, type NodeClientOptions } from './node-client.js';
export { WsClient, type WsClientOptions } from './ws-client.js';
export type { I420Frame, NodeResult, StreamClient, StreamError } from './stream-client.js';
export { SightlineError } from '@sightline/client/signaling';
export { holdBackCandidates, WebRtcPublisher, type PublisherOptions } from './webrtc-publisher.js';
