import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { videoEncoderName } from '../../src/engine/codecs/video-encoder.js';
import { wrtc, type WrtcVideoSink } from '../../src/engine/wrtc-binding.js';
import type { I420Frame } from '../../src/models/i420.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import { exitWhenDone } from '../helpers/exit.js';
import { readPngAsI420 } from '../helpers/images.js';
import { NodePeer } from '../helpers/node-peer.js';
import { astronautPng } from '../helpers/paths.js';

const KEY = 'k';
const astronaut = readPngAsI420(astronautPng);

/** Mean |ΔY| between two frames of one size, over every 7th luma sample. */
function lumaDiff(a: I420Frame, b: I420Frame): number {
  let sum = 0;
  let n = 0;
  for (let k = 0; k < a.width * a.height; k += 7, n++) sum += Math.abs(a.data[k]! - b.data[k]!);
  return sum / n;
}

/** Collects the frames libwebrtc decodes from the first remote video track of `pc`. */
function collectRemoteVideo(pc: InstanceType<typeof wrtc.RTCPeerConnection>, sinks: WrtcVideoSink[]): I420Frame[] {
  const frames: I420Frame[] = [];
  pc.ontrack = (e) => {
    if (e.track.kind !== 'video') return;
    const sink = new wrtc.nonstandard.RTCVideoSink(e.track);
    sinks.push(sink);
    sink.onframe = ({ frame }) => frames.push({ width: frame.width, height: frame.height, data: new Uint8Array(frame.data) });
  };
  return frames;
}

async function until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The ndc engine's send path in-process, against libwebrtc (wrtc) as the receiver, for each codec wrtc decodes (VP8,
 * VP9, AV1; it has no H.264, which the Chromium e2e tests cover): the processed video back on the client's own
 * sendrecv section, and a WHEP viewer on a recvonly offer. libwebrtc's depacketizers, jitter buffer and decoders
 * accept what the server packetizes, and the picture is the one sent.
 */
describe('the ndc engine sends video (video back, WHEP) that libwebrtc decodes', { timeout: 120_000 }, () => {
  const peers: NodePeer[] = [];
  const sinks: WrtcVideoSink[] = [];
  const others: Array<InstanceType<typeof wrtc.RTCPeerConnection>> = [];
  after(() => {
    for (const s of sinks) s.stop();
    for (const p of peers) p.close();
    for (const pc of others) pc.close();
    exitWhenDone();
  });

  for (const codec of ['VP8', 'VP9', 'AV1'] as const) {
    test(`${codec}: video back on the sendrecv section, and to a WHEP viewer`, { skip: !videoEncoderName(codec) && `no ${codec} encoder` }, async () => {
      const server: SightlineServer = await createServer(
        loadConfig(['--engine', 'ndc', '--video-codecs', codec, '--workers', '1', '--log-level', 'silent'], { SIGHTLINE_API_KEYS: KEY }),
      );
      try {
        const client = new NodePeer();
        peers.push(client);
        const backFrames = collectRemoteVideo(client.pc, sinks);
        const offered = await server.app.inject({
          method: 'POST',
          url: '/webrtc/offer',
          headers: { 'content-type': 'application/json', 'api-key': KEY },
          payload: JSON.stringify({ sdp: await client.offer(), type: 'offer', processor: 'stats', mode: 'video' }),
        });
        assert.equal(offered.statusCode, 200, offered.body);
        const { sdp, session_id: id } = offered.json() as { sdp: string; session_id: string };
        assert.match(sdp, new RegExp(`a=rtpmap:\\d+ ${codec}/90000`));
        assert.match(sdp, /a=sendrecv/);
        assert.match(sdp, /a=ssrc:\d+ cname:sightline/);
        await client.accept(sdp);
        await client.channelOpen();
        client.startSending(astronaut, 30);
        await until(() => backFrames.length >= 20, `20 frames of ${codec} video back`);
        const last = backFrames.at(-1)!;
        assert.equal(last.width, astronaut.width);
        assert.equal(last.height, astronaut.height);
        assert.ok(lumaDiff(last, astronaut) < 8, `video back is the picture sent (mean |ΔY| ${lumaDiff(last, astronaut).toFixed(1)})`);

        // A WHEP viewer: recvonly offer, the server only sends.
        const viewer = new wrtc.RTCPeerConnection();
        others.push(viewer);
        // (wrtc-binding types what the engine uses; a viewer needs a recvonly transceiver too)
        (viewer as unknown as { addTransceiver(kind: 'video', init: { direction: 'recvonly' }): unknown }).addTransceiver('video', { direction: 'recvonly' });
        const viewed = collectRemoteVideo(viewer, sinks);
        await viewer.setLocalDescription(await viewer.createOffer());
        await until(() => viewer.iceGatheringState === 'complete', 'ICE gathering', 3000).catch(() => undefined);
        const r = await server.app.inject({
          method: 'POST',
          url: `/sessions/${id}/whep`,
          headers: { 'content-type': 'application/sdp', authorization: `Bearer ${KEY}` },
          payload: viewer.localDescription!.sdp,
        });
        assert.equal(r.statusCode, 201, r.body);
        assert.match(r.body, /a=sendonly/);
        await viewer.setRemoteDescription({ type: 'answer', sdp: r.body });
        await until(() => viewed.length >= 20, `20 frames of ${codec} at the WHEP viewer`);
        assert.ok(lumaDiff(viewed.at(-1)!, astronaut) < 8, 'the viewer sees the picture sent');
        client.stopSending();
      } finally {
        await server.close();
      }
    });
  }
});
