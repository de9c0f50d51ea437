/**
 * A client in a process of its own, for tests that kill it (SIGKILL: no DELETE, no close, no goodbye). Usage:
 *   node --import tsx killable-client.ts <webrtc|whip|ws|whep> <url> <key> [session id, for whep]
 * It connects, prints one JSON line `{"id": …}` (the session id; for whep the viewer's resource URL) and then streams
 * until it is killed: 15 fps of a 320x240 frame (video track, WHIP or JPEG over the WebSocket bridge); a WHEP viewer
 * receives and sends its RTCP receiver reports, as a browser does.
 */
import sharp from 'sharp';
import { NodeClient, WsClient } from '@sightline/node';
import { connectWhepViewer, connectWhip } from './raw-clients.js';

const [transport, url, key, sessionId] = process.argv.slice(2) as [string, string, string, string | undefined];
const W = 320;
const H = 240;
const frame = { width: W, height: H, data: new Uint8Array(W * H * 1.5).fill(128).fill(90, 0, W * H) };
const every = (fn: () => void): void => void setInterval(fn, 1000 / 15);

if (transport === 'webrtc') {
  const client = await NodeClient.connect({ url, apiKey: key, processor: 'stats' });
  console.log(JSON.stringify({ id: client.sessionId }));
  every(() => client.send(frame));
} else if (transport === 'ws') {
  const client = await WsClient.connect({ url, apiKey: key, processor: 'stats' });
  const jpeg = new Uint8Array(
    await sharp({ create: { width: W, height: H, channels: 3, background: '#5a5a5a' } })
      .jpeg()
      .toBuffer(),
  );
  console.log(JSON.stringify({ id: client.sessionId }));
  every(() => client.sendEncoded(jpeg));
} else if (transport === 'whip') {
  const whip = await connectWhip(url, key);
  console.log(JSON.stringify({ id: whip.id }));
  every(() => whip.send(frame));
} else if (transport === 'whep') {
  const viewer = await connectWhepViewer(url, key, sessionId!);
  console.log(JSON.stringify({ id: viewer.url }));
  every(() => undefined);
} else {
  throw new Error(`unknown transport ${transport}`);
}
