import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { videoEncoderName } from '@sightline/media';
import { launchChromium } from '../helpers/chromium.js';
import { ensurePanClip } from '../helpers/clip.js';
import { readPngAsI420 } from '../helpers/images.js';
import { NodePeer } from '../helpers/node-peer.js';
import { astronautPng } from '../helpers/paths.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const KEY = 'send-key';
const GRID = 16;
const astronaut = readPngAsI420(astronautPng);

/** Mean luma of each cell of a GRID×GRID grid over an I420 frame's Y plane. */
function lumaGrid(frame: { width: number; height: number; data: Uint8Array }): number[] {
  const out: number[] = [];
  for (let gy = 0; gy < GRID; gy++) {
    for (let gx = 0; gx < GRID; gx++) {
      let sum = 0;
      let n = 0;
      for (let y = Math.floor((gy * frame.height) / GRID); y < Math.floor(((gy + 1) * frame.height) / GRID); y += 2) {
        for (let x = Math.floor((gx * frame.width) / GRID); x < Math.floor(((gx + 1) * frame.width) / GRID); x += 2, n++)
          sum += frame.data[y * frame.width + x]!;
      }
      out.push(sum / n);
    }
  }
  return out;
}

async function until(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The server's send path (FFmpeg encoder, our packetizers, RTP, sender reports) for each codec, decoded by a decoder
 * we did not write: Chromium as a WHEP viewer of a session whose client (a Node publisher) asked for the processed
 * video back. The video back flows on the client's sendrecv section; the viewer's picture is the one sent.
 */
describe('the server sends video (video back, WHEP) that Chromium decodes, per codec', { timeout: 240_000 }, () => {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  before(async () => {
    browser = await launchChromium(ensurePanClip());
  });
  after(async () => {
    await browser?.close();
  });

  for (const codec of ['H264', 'VP8', 'VP9', 'AV1'] as const) {
    test(
      `${codec}: video back on the sendrecv section, and a WHEP viewer sees the picture sent`,
      { skip: !videoEncoderName(codec) && `no ${codec} encoder` },
      async () => {
        const server: ServerProcess = await startServerProcess(['--video-codecs', codec, '--processor', 'stats'], { SIGHTLINE_API_KEYS: KEY });
        const client = new NodePeer({ receiveVideo: true, codec });
        try {
          const offered = await fetch(`${server.url}/webrtc/offer`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'api-key': KEY },
            body: JSON.stringify({ sdp: await client.offer(), type: 'offer', mode: 'video' }),
          });
          const answer = (await offered.json()) as { sdp: string; session_id: string };
          assert.equal(offered.status, 200, JSON.stringify(answer));
          assert.match(answer.sdp, new RegExp(`a=rtpmap:\\d+ ${codec}/90000`));
          assert.match(answer.sdp, /a=sendrecv/);
          await client.accept(answer.sdp);
          await client.channelOpen();
          client.startSending(astronaut, 30);
          await until(() => client.publisher.videoPacketsReceived >= 50, `${codec} video back at the client`);

          const page = await browser.context.newPage();
          await page.goto(`${server.url}/healthz`);
          const seen = await page.evaluate(
            async ({ key, id, grid }) => {
              const pc = new RTCPeerConnection();
              pc.addTransceiver('video', { direction: 'recvonly' });
              const video = document.createElement('video');
              video.muted = true;
              video.autoplay = true;
              document.body.append(video);
              pc.ontrack = (e) => (video.srcObject = new MediaStream([e.track]));
              await pc.setLocalDescription(await pc.createOffer());
              await new Promise<void>((resolve) => {
                if (pc.iceGatheringState === 'complete') resolve();
                pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
                setTimeout(resolve, 2000);
              });
              const r = await fetch(`/sessions/${id}/whep`, {
                method: 'POST',
                headers: { 'content-type': 'application/sdp', authorization: `Bearer ${key}` },
                body: pc.localDescription!.sdp,
              });
              if (r.status !== 201) return { error: `WHEP answered ${r.status}: ${await r.text()}` };
              await pc.setRemoteDescription({ type: 'answer', sdp: await r.text() });
              let frames = 0;
              const count = () => {
                frames++;
                (video as any).requestVideoFrameCallback(count);
              };
              (video as any).requestVideoFrameCallback(count);
              const deadline = Date.now() + 15_000;
              while (frames < 20 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
              const w = video.videoWidth;
              const h = video.videoHeight;
              const c = Object.assign(document.createElement('canvas'), { width: w, height: h });
              const g = c.getContext('2d')!;
              g.drawImage(video, 0, 0);
              const d = g.getImageData(0, 0, w, h).data;
              // BT.601 limited-range luma of each cell, as the I420 we sent has it.
              const cells: number[] = [];
              for (let gy = 0; gy < grid; gy++) {
                for (let gx = 0; gx < grid; gx++) {
                  let sum = 0;
                  let n = 0;
                  for (let y = Math.floor((gy * h) / grid); y < Math.floor(((gy + 1) * h) / grid); y += 2) {
                    for (let x = Math.floor((gx * w) / grid); x < Math.floor(((gx + 1) * w) / grid); x += 2, n++) {
                      const i = (y * w + x) * 4;
                      sum += 16 + (65.738 * d[i]! + 129.057 * d[i + 1]! + 25.064 * d[i + 2]!) / 256;
                    }
                  }
                  cells.push(sum / n);
                }
              }
              const stats = await pc.getStats();
              let decoder = '';
              stats.forEach((s: any) => {
                if (s.type === 'inbound-rtp' && s.kind === 'video') decoder = s.decoderImplementation ?? '';
              });
              pc.close();
              return { frames, width: w, height: h, cells, decoder };
            },
            { key: KEY, id: answer.session_id, grid: GRID },
          );
          await page.close();
          client.stopSending();
          assert.ok(!('error' in seen), JSON.stringify(seen));
          const s = seen as { frames: number; width: number; height: number; cells: number[]; decoder: string };
          assert.ok(s.frames >= 20, `${s.frames} frames decoded by Chromium (${s.decoder})`);
          assert.equal(s.width, astronaut.width);
          assert.equal(s.height, astronaut.height);
          const sent = lumaGrid(astronaut);
          const diff = s.cells.reduce((sum, v, i) => sum + Math.abs(v - sent[i]!), 0) / sent.length;
          assert.ok(diff < 8, `the viewer sees the picture sent: mean |ΔY| per cell ${diff.toFixed(1)}`);
          console.log(`${codec}: Chromium decoded ${s.frames} frames${s.decoder ? ` (${s.decoder})` : ''}; mean |ΔY| per cell ${diff.toFixed(2)}`);
        } finally {
          client.close();
          await server.stop();
        }
      },
    );
  }
});
