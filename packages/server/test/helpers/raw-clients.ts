/**
 * WHIP publishers and WHEP viewers as outside programs would be written: libdatachannel peers speaking plain HTTP to
 * the server (no Sightline SDK). Their offers hold the candidates back until the answer is applied (see
 * `WebRtcPublisher.offer`), then PATCH them. For the killed-client test, the soak and the soak test.
 */
import nodeDataChannel from 'node-datachannel';
import { peerClosed, peerOpened, release, retain } from '@sightline/media';
import { holdBackCandidates, WebRtcPublisher } from '@sightline/node';
import type { I420Frame } from '../../src/models/i420.js';

const SDPFRAG = 'application/trickle-ice-sdpfrag';

/** A WHIP publisher (H.264, no DataChannel) with its media open. `close()` DELETEs its resource, then closes. */
export async function connectWhip(
  url: string,
  key: string,
  processor = 'stats',
): Promise<{ id: string; send(frame: I420Frame): void; close(): Promise<void> }> {
  const pub = new WebRtcPublisher({ video: 'H264', channel: false });
  try {
    const res = await fetch(`${url}/whip?processor=${processor}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${key}` },
      body: await pub.offer(),
    });
    if (res.status !== 201) throw new Error(`WHIP answered ${res.status}: ${await res.text()}`);
    const location = new URL(res.headers.get('location')!, url).toString();
    pub.accept(await res.text());
    await fetch(location, { method: 'PATCH', headers: { 'content-type': SDPFRAG, authorization: `Bearer ${key}` }, body: pub.heldCandidates });
    await pub.waitForMedia();
    return {
      id: location.split('/').pop()!,
      send: (frame) => void pub.sendVideo(frame),
      close: async () => {
        await fetch(location, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } }).catch(() => undefined);
        pub.close();
      },
    };
  } catch (err) {
    pub.close();
    throw err;
  }
}

/**
 * A WHEP viewer of a live session: a recvonly video track sending RTCP receiver reports (as every WebRTC receiver
 * does), resolved once video arrives. `close()` DELETEs its resource, then closes.
 */
export async function connectWhepViewer(url: string, key: string, sessionId: string, timeoutMs = 10_000): Promise<{ url: string; close(): Promise<void> }> {
  const pc = new nodeDataChannel.PeerConnection('whep-viewer', { iceServers: [], disableAutoNegotiation: true });
  // Counted and retained like every node-datachannel object of the process (see native-lifetime.ts in @sightline/media):
  // a track collected before its close crashes the process, and the last peer out runs node-datachannel's cleanup.
  peerOpened();
  const video = new nodeDataChannel.Video('0', 'RecvOnly');
  video.addH264Codec(102);
  video.addVP8Codec(96);
  const track = pc.addTrack(video);
  retain(track);
  track.onClosed(() => release(track));
  track.setMediaHandler(new nodeDataChannel.RtcpReceivingSession());
  let packets = 0;
  track.onMessage(() => packets++);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    track.close();
    pc.close();
    peerClosed();
  };
  try {
    const gathered = new Promise<void>((resolve) => pc.onGatheringStateChange((s) => s === 'complete' && resolve()));
    pc.setLocalDescription('offer');
    await Promise.race([gathered, new Promise((r) => setTimeout(r, 3000))]);
    const { offer, candidates } = holdBackCandidates(pc.localDescription()!.sdp);
    const res = await fetch(`${url}/sessions/${sessionId}/whep`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${key}` },
      body: offer,
    });
    if (res.status !== 201) throw new Error(`WHEP answered ${res.status}: ${await res.text()}`);
    pc.setRemoteDescription(await res.text(), 'answer');
    const viewerUrl = new URL(res.headers.get('location')!, url).toString();
    await fetch(viewerUrl, { method: 'PATCH', headers: { 'content-type': SDPFRAG, authorization: `Bearer ${key}` }, body: candidates });
    const deadline = Date.now() + timeoutMs;
    while (packets === 0) {
      if (Date.now() > deadline) throw new Error(`the WHEP viewer received no video within ${timeoutMs} ms (${pc.state()})`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return {
      url: viewerUrl,
      close: async () => {
        await fetch(viewerUrl, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } }).catch(() => undefined);
        close();
      },
    };
  } catch (err) {
    close();
    throw err;
  }
}

/**
 * A recvonly WHEP offer (H.264 and VP8) from a libdatachannel peer that never applies the answer: a viewer that never
 * connects. Its peer and track go into `keep`, for the test to close at its end (a track collected before its close
 * crashes node-datachannel).
 */
export async function unansweredWhepOffer(keep: { pcs: nodeDataChannel.PeerConnection[]; tracks: nodeDataChannel.Track[] }): Promise<string> {
  const pc = new nodeDataChannel.PeerConnection('viewer', { iceServers: [], disableAutoNegotiation: true });
  keep.pcs.push(pc);
  const video = new nodeDataChannel.Video('0', 'RecvOnly');
  video.addH264Codec(102);
  video.addVP8Codec(96);
  keep.tracks.push(pc.addTrack(video));
  const gathered = new Promise<void>((resolve) => pc.onGatheringStateChange((st) => st === 'complete' && resolve()));
  pc.setLocalDescription('offer');
  await Promise.race([gathered, new Promise((r) => setTimeout(r, 2000))]);
  return pc.localDescription()!.sdp;
}
