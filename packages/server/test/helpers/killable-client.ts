/**
 * A client in a process of its own, for tests that kill it (SIGKILL: no DELETE, no close, no goodbye). Usage:
 *   node --import tsx killable-client.ts <webrtc|whip|ws|whep> <url> <key> [session id, for whep]
 * It connects, prints one JSON line `{"id": …}` (the session id; for whep the viewer's resource URL) and then streams
 * until it is killed: 15 fps of a 320x240 frame (video track, WHIP or JPEG over the WebSocket bridge); a WHEP viewer
 * receives and sends its RTCP receiver reports, as a browser does.
 */
import nodeDataChannel from 'node-datachannel';
import sharp from 'sharp';
import { holdBackCandidates, NodeClient, WebRtcPublisher, WsClient } from '@sightline/node';

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
  const pub = new WebRtcPublisher({ video: 'H264', channel: false });
  const offer = await pub.offer();
  const res = await fetch(`${url}/whip?processor=stats`, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', authorization: `Bearer ${key}` },
    body: offer,
  });
  if (res.status !== 201) throw new Error(`WHIP answered ${res.status}: ${await res.text()}`);
  const location = new URL(res.headers.get('location')!, url).toString();
  pub.accept(await res.text());
  await fetch(location, {
    method: 'PATCH',
    headers: { 'content-type': 'application/trickle-ice-sdpfrag', authorization: `Bearer ${key}` },
    body: pub.heldCandidates,
  });
  await pub.waitForMedia();
  console.log(JSON.stringify({ id: location.split('/').pop() }));
  every(() => pub.sendVideo(frame));
} else if (transport === 'whep') {
  const pc = new nodeDataChannel.PeerConnection('whep-viewer', { iceServers: [], disableAutoNegotiation: true });
  const video = new nodeDataChannel.Video('0', 'RecvOnly');
  video.addH264Codec(102);
  video.addVP8Codec(96);
  const track = pc.addTrack(video);
  // Receiver reports, as every WebRTC receiver sends them.
  track.setMediaHandler(new nodeDataChannel.RtcpReceivingSession());
  let packets = 0;
  track.onMessage(() => packets++);
  const gathered = new Promise<void>((resolve) => pc.onGatheringStateChange((s) => s === 'complete' && resolve()));
  pc.setLocalDescription('offer');
  await Promise.race([gathered, new Promise((r) => setTimeout(r, 3000))]);
  // Candidates after the answer (see WebRtcPublisher.offer: libdatachannel on both sides).
  const { offer, candidates } = holdBackCandidates(pc.localDescription()!.sdp);
  const res = await fetch(`${url}/sessions/${sessionId}/whep`, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', authorization: `Bearer ${key}` },
    body: offer,
  });
  if (res.status !== 201) throw new Error(`WHEP answered ${res.status}: ${await res.text()}`);
  pc.setRemoteDescription(await res.text(), 'answer');
  const viewerUrl = new URL(res.headers.get('location')!, url).toString();
  await fetch(viewerUrl, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', authorization: `Bearer ${key}` }, body: candidates });
  const deadline = Date.now() + 10_000;
  while (packets === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (packets === 0) throw new Error('the WHEP viewer received no video');
  console.log(JSON.stringify({ id: viewerUrl }));
  every(() => undefined);
} else {
  throw new Error(`unknown transport ${transport}`);
}
