/**
 * Target `sdp-parsers` (pure, no server): the server's own SDP readers, fed valid offers (Chromium, libdatachannel,
 * WHEP), offers mutated line by line (dropped, duplicated, swapped, truncated lines; huge and malformed numbers;
 * unknown codecs; many m-lines; other line endings) or character by character, and free text.
 *
 * - `checkOfferSdp` (engine/sdp-check.ts) returns a message or undefined, never throws; what it lets through starts
 *   with v=0 (after blank lines), is at most MAX_SDP_CHARS long and has 1..MAX_MEDIA_SECTIONS media sections; valid offers pass, in CRLF
 *   and in LF.
 * - `parseOfferMedia` and the codec choice (engine/ndc/offer-media.ts, codec-choice.ts), `offerCanReceiveVideo`,
 *   `offerSendsAudio` and `iceUfragOf` never throw; payload types and RTX mappings are integers (or Infinity, for
 *   digits past a double's range); a chosen codec is one
 *   the section offers. Valid offers give the sections and codecs they plainly have.
 */
import fc from 'fast-check';
import { checkOfferSdp, MAX_MEDIA_SECTIONS, MAX_SDP_CHARS, offerCanReceiveVideo, offerSendsAudio } from '../../src/engine/sdp-check.js';
import { iceUfragOf } from '../../src/engine/sdpfrag.js';
import { parseOfferMedia } from '../../src/engine/ndc/offer-media.js';
import { chooseAudioCodec, chooseVideoCodec, DEFAULT_VIDEO_CODECS, offeredVideoNames, videoCodecOf } from '../../src/engine/ndc/codec-choice.js';
import { expect, fuzzTarget } from './fuzz-target.js';
import { mutatedLines, mutatedText, weirdString } from './mutators.js';
import { CHROMIUM_OFFER, LIBDATACHANNEL_AV_OFFER, rewrittenSdp, SDP_SAMPLES, sdpLine } from './samples.js';

/** What each valid sample must parse to: its media kinds and the video codec chosen by default. */
const EXPECTED = new Map<string, { kinds: string[]; video?: string }>([
  [CHROMIUM_OFFER, { kinds: ['audio', 'video', 'application'], video: 'H264' }],
  [LIBDATACHANNEL_AV_OFFER, { kinds: ['video', 'audio', 'application'], video: 'H264' }],
]);

export const sdpInput = (samples: readonly string[]): fc.Arbitrary<{ valid: boolean; sdp: string }> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...samples).map((sdp) => ({ valid: true, sdp })) },
    { weight: 1, arbitrary: fc.constantFrom(...samples).map((sdp) => ({ valid: true, sdp: sdp.replace(/\r\n/g, '\n') })) },
    { weight: 8, arbitrary: mutatedLines(samples, sdpLine()).map((sdp) => ({ valid: false, sdp })) },
    { weight: 3, arbitrary: mutatedText(samples).map((sdp) => ({ valid: false, sdp })) },
    { weight: 3, arbitrary: rewrittenSdp(samples).map((sdp) => ({ valid: false, sdp })) },
    { weight: 1, arbitrary: fc.array(sdpLine(), { maxLength: 30 }).map((lines) => ({ valid: false, sdp: ['v=0', ...lines].join('\r\n') })) },
    { weight: 1, arbitrary: weirdString(200).map((sdp) => ({ valid: false, sdp })) },
  );

export const fuzzSdpParsers = fuzzTarget('sdp-parsers', { server: false }, async ({ tally }) => ({
  property: fc.property(sdpInput(SDP_SAMPLES), ({ valid, sdp }) => {
    const problem = checkOfferSdp(sdp);
    expect(problem === undefined || typeof problem === 'string', 'checkOfferSdp returned neither a message nor undefined', problem);
    if (valid) expect(problem === undefined, `a valid offer was refused: ${problem}`);
    if (problem === undefined) {
      tally.accept();
      const media = sdp.split(/\r?\n/).filter((l) => l.startsWith('m='));
      expect(sdp.length <= MAX_SDP_CHARS, 'an offer over MAX_SDP_CHARS passed');
      // Blank lines are skipped (a leading one too): the first line with text is v=0.
      expect(sdp.split(/\r?\n/).find((l) => l.length > 0) === 'v=0', 'an offer not starting with v=0 passed', sdp);
      expect(media.length >= 1 && media.length <= MAX_MEDIA_SECTIONS, `an offer with ${media.length} media sections passed`, sdp);
    } else tally.reject();

    const sections = parseOfferMedia(sdp);
    for (const s of sections) {
      // Digits beyond a double's range read as Infinity (libdatachannel then refuses the offer: "Invalid integer").
      const whole = (n: number): boolean => n >= 0 && (Number.isInteger(n) || n === Infinity);
      for (const f of s.formats) expect(whole(f.pt), 'a payload type is not a non-negative integer', f);
      for (const [pt, apt] of s.rtx) expect(whole(pt) && whole(apt), 'an RTX mapping is not integers', [pt, apt]);
      const video = chooseVideoCodec(s, DEFAULT_VIDEO_CODECS);
      if (video)
        expect(s.formats.includes(video.format) && videoCodecOf(video.format.name) === video.codec, 'the chosen codec is not one the section offers', video);
      const audio = chooseAudioCodec(s);
      if (audio) expect(s.formats.includes(audio.format), 'the chosen audio codec is not offered', audio);
      offeredVideoNames(s);
    }
    offerCanReceiveVideo(sdp);
    offerSendsAudio(sdp);
    iceUfragOf(sdp);

    const expected = EXPECTED.get(sdp);
    if (expected) {
      expect(sections.map((s) => s.kind).join() === expected.kinds.join(), 'a valid offer parsed to other sections', sections);
      const chosen = sections.map((s) => chooseVideoCodec(s, DEFAULT_VIDEO_CODECS)?.codec).find((c) => c !== undefined);
      expect(chosen === expected.video, `a valid offer chose ${chosen} instead of ${expected.video}`);
    }
  }),
}));
