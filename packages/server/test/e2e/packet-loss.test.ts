import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test, type TestContext } from 'node:test';
import { launchChromium } from '../helpers/chromium.js';
import { ensurePanClip } from '../helpers/clip.js';
import { onFaceCount, PAN_TOLERANCE_PX, panFit, type Result } from '../helpers/pan-fit.js';
import { artifactsDir } from '../helpers/paths.js';
import { createLossyNetns, netnsUnavailable, startServerInNetns, type LossyNetns } from '../helpers/netns.js';

/**
 * Real packet loss between Chromium and the server: both run in a network namespace of their own where nftables drops
 * 5 % of the UDP packets delivered (the kernel here has no netem). The demo page streams the fake camera's pan clip
 * for 15 s. The server must repair the loss itself (NACK → RTX, PLI when a frame is lost for good, nothing decoded
 * until the next keyframe): results keep coming at the camera's rate and no result describes a corrupted picture —
 * every box sits where the pan puts the face in the frame the result names.
 */

const KEY = 'loss-key';
const LOSS_PERCENT = 5;
/** Results/s are counted over the last WINDOW_S seconds of a RUN_S-second run. */
const RUN_S = 15;
const WINDOW_S = 10;
const missing = netnsUnavailable();

type SenderStats = {
  packetsSent: number;
  nackCount: number;
  pliCount: number;
  retransmittedPacketsSent: number;
  codec: string;
  framesSent: number;
  limitation: string;
};

interface Measurement {
  results: Result[];
  resultsPerSecond: number;
  /** `sightline_video_*` counters of /metrics. */
  video: Record<string, number>;
  /** What Chromium's sender saw (its outbound-rtp stats). */
  sender: SenderStats;
  /** UDP packets delivered in the namespace during the run, and those dropped. */
  udp: { udp: number; dropped: number };
  exitCode: number | null;
  log: string;
}

const pct = (n: number, of: number) => `${((100 * n) / Math.max(1, of)).toFixed(1)} %`;

describe(`${LOSS_PERCENT} % UDP loss between Chromium and the server (network namespace + nftables)`, { skip: missing, timeout: 240_000 }, () => {
  let ns: LossyNetns | undefined;
  const cleanup = () => ns?.delete();

  before(() => {
    ns = createLossyNetns(`sl-loss-${process.pid}`, LOSS_PERCENT);
    // Even if the runner is interrupted before after() runs.
    process.once('exit', cleanup);
  });
  after(() => {
    cleanup();
    process.removeListener('exit', cleanup);
  });

  /** Server and Chromium inside the namespace; the demo page streams the pan clip for RUN_S s. */
  async function measure(): Promise<Measurement> {
    const netns = ns!;
    const udpBefore = await netns.udpCounters();
    const server = await startServerInNetns(netns, [], { SIGHTLINE_API_KEYS: KEY });
    let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
    let measured: Omit<Measurement, 'exitCode' | 'log'>;
    let exitCode: number | null;
    try {
      // launchChromium starts CHROMIUM_PATH when set: point it at a wrapper that execs Chromium inside the namespace.
      // Playwright talks to it over a pipe, which `ip netns exec` passes through.
      const chromiumPath = process.env.CHROMIUM_PATH;
      process.env.CHROMIUM_PATH = netns.wrapper(chromiumPath ?? '/usr/bin/chromium');
      try {
        browser = await launchChromium(ensurePanClip());
      } finally {
        if (chromiumPath === undefined) delete process.env.CHROMIUM_PATH;
        else process.env.CHROMIUM_PATH = chromiumPath;
      }
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/?key=${KEY}&autostart=1`);
      await page.waitForFunction(() => document.body.dataset.state === 'connected', undefined, { timeout: 20_000 });
      const count = () => page.evaluate(() => ({ n: (window as any).sightlineDemo.results.length as number, t: performance.now() }));
      await page.waitForTimeout((RUN_S - WINDOW_S) * 1000);
      const start = await count();
      await page.waitForTimeout(WINDOW_S * 1000);
      const end = await count();
      const got = await page.evaluate(async () => {
        const pc = (window as any).sightlineDemo.session.pc as RTCPeerConnection;
        const stats = [...(await pc.getStats()).values()];
        const out = stats.find((s) => s.type === 'outbound-rtp' && s.kind === 'video');
        return {
          results: (window as any).sightlineDemo.results as Result[],
          metrics: await fetch('/metrics').then((r) => r.text()),
          sender: {
            packetsSent: out?.packetsSent ?? 0,
            nackCount: out?.nackCount ?? 0,
            pliCount: out?.pliCount ?? 0,
            retransmittedPacketsSent: out?.retransmittedPacketsSent ?? 0,
            codec: stats.find((s) => s.id === out?.codecId)?.mimeType ?? '?',
            framesSent: out?.framesSent ?? 0,
            limitation: JSON.stringify(out?.qualityLimitationDurations ?? {}),
          },
        };
      });
      const video: Record<string, number> = {};
      for (const m of got.metrics.matchAll(/^(sightline_video_\w+) (\d+)/gm)) video[m[1]!] = Number(m[2]);
      const udpAfter = await netns.udpCounters();
      await page.close();
      measured = {
        results: got.results,
        resultsPerSecond: (end.n - start.n) / ((end.t - start.t) / 1000),
        video,
        sender: got.sender,
        udp: { udp: udpAfter.udp - udpBefore.udp, dropped: udpAfter.dropped - udpBefore.dropped },
      };
    } finally {
      await browser?.close();
      // SIGTERM once the page is gone: the server drains and exits (its code is checked).
      exitCode = await server.stop();
    }
    return { ...measured, exitCode, log: server.output() };
  }

  /** Runs `measure` and prints its figures. */
  async function measureAndPrint(t: TestContext): Promise<Measurement> {
    const m = await measure();
    // For a look afterwards: every result, the counters and the server's log.
    const dir = artifactsDir('packet-loss');
    writeFileSync(`${dir}loss.json`, JSON.stringify({ ...m, log: undefined }, null, 1));
    writeFileSync(`${dir}server.log`, m.log);
    const fit = panFit(m.results);
    const s = m.sender;
    t.diagnostic(
      `at ${LOSS_PERCENT} % UDP loss: ${m.resultsPerSecond.toFixed(1)} results/s over the last ${WINDOW_S} s; ` +
        `${m.results.length} results, ${pct(onFaceCount(m.results), m.results.length)} with one face box on the face, ` +
        `${pct(fit.onPan, m.results.length)} within ${PAN_TOLERANCE_PX} px of the pan position of their frame_id ` +
        `(the clip slipped ${fit.slip} frames past frame_id; with one offset for the whole run ${pct(fit.onPanOneOffset, m.results.length)}; ` +
        `detector bias ${fit.bias.map((b) => b.toFixed(1)).join('/')} px)`,
    );
    t.diagnostic(
      `network: ${m.udp.dropped} of ${m.udp.udp} UDP packets dropped (${pct(m.udp.dropped, m.udp.udp)}); ` +
        `Chromium sent ${s.packetsSent} ${s.codec} packets, got ${s.nackCount} NACKs and ${s.pliCount} PLIs, retransmitted ${s.retransmittedPacketsSent}; ` +
        `frames sent ${s.framesSent}, quality limitation ${s.limitation}`,
    );
    t.diagnostic(
      `/metrics: ${
        Object.entries(m.video)
          .map(([k, v]) => `${k.replace(/^sightline_video_/, '')}=${v}`)
          .join(' ') || 'no sightline_video_* counters'
      }`,
    );
    return m;
  }

  test('NACK/RTX and PLI repair the loss: ≥ 25 results/s, every box on the pan position of its frame_id, NACKs and retransmissions in /metrics', async (t) => {
    const m = await measureAndPrint(t);
    const tail = `\n${m.log.slice(-3000)}`;
    assert.equal(m.exitCode, 0, `server exit code ${m.exitCode}${tail}`);
    // The loss was real: the rule dropped about LOSS_PERCENT % of what was delivered.
    assert.ok(m.udp.dropped >= m.udp.udp * 0.02, `only ${m.udp.dropped} of ${m.udp.udp} UDP packets dropped`);

    assert.ok(m.resultsPerSecond >= 25, `${m.resultsPerSecond.toFixed(1)} results/s over the last ${WINDOW_S} s${tail}`);

    // No corrupted frame: a picture decoded with a hole (or against a missing reference) gives no box, a box elsewhere,
    // or a box of another frame. ≥ 95 % of all results hold one face box where the pan puts the face in the frame
    // their frame_id names (ndc numbers frames as the sender sent them, lost ones included; panFit allows for the
    // frames Chromium's camera delivered but its sender skipped).
    const ids = m.results.map((r) => r.frame_id);
    assert.equal(new Set(ids).size, ids.length, 'a frame_id answered twice');
    const fit = panFit(m.results);
    assert.ok(Math.abs(fit.bias[0]) <= 10 && Math.abs(fit.bias[1]) <= 10, `box centres ${fit.bias.join('/')} px from the face's on average`);
    assert.ok(
      fit.onPan >= m.results.length * 0.95,
      `${fit.onPan}/${m.results.length} results hold a face box within ${PAN_TOLERANCE_PX} px of the pan position of their frame_id`,
    );

    // The server repaired the loss itself.
    const v = (name: string) => m.video[`sightline_video_${name}`];
    for (const name of ['packets_received_total', 'nacks_sent_total', 'plis_sent_total', 'retransmissions_received_total', 'frames_undecodable_total'])
      assert.notEqual(v(name), undefined, `/metrics has no sightline_video_${name}`);
    assert.ok(v('packets_received_total')! > 0);
    assert.ok(v('nacks_sent_total')! > 0, 'no NACK sent at 5 % loss');
    // At 5 % loss NACK → RTX recovers (nearly) every packet within the reorder wait, so a frame is rarely lost for good
    // and PLIs are often 0 in 15 s: the retransmissions that arrived are checked instead. A frame that was lost for good
    // must have asked for a keyframe.
    assert.ok(v('retransmissions_received_total')! > 0, 'NACKs sent but no retransmission received');
    assert.ok(v('frames_undecodable_total') === 0 || v('plis_sent_total')! > 0, 'frames were undecodable but no PLI was sent');
    if (v('plis_sent_total') === 0) t.diagnostic('no PLI was needed (every lost packet came back by RTX in time)');
  });
});
