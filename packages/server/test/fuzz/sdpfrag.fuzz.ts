/**
 * Target `sdpfrag-parser` (pure, no server): `parseSdpFrag` (engine/sdpfrag.ts), the reader of every trickle PATCH
 * body (RFC 8840 `application/trickle-ice-sdpfrag`).
 *
 * - On any text (mutated fragments, fragment lines, free text, other line endings) it returns a fragment or throws
 *   its one documented error (an `Error` "not an SDP line: …"), nothing else.
 * - Valid fragments round-trip: a fragment written from credentials, media sections (mid + candidates) and
 *   end-of-candidates parses back to the same ufrag, pwd, candidates with their mids, and end flag.
 */
import fc from 'fast-check';
import { parseSdpFrag, type SdpFrag } from '../../src/engine/sdpfrag.js';
import { expect, fuzzTarget } from './fuzz-target.js';
import { mutatedLines, mutatedText, weirdString } from './mutators.js';
import { SDPFRAG_SAMPLES, sdpfragLine } from './samples.js';

/** A value that survives a line: no line break, no surrounding whitespace, not empty. */
const token = (max = 24): fc.Arbitrary<string> =>
  fc
    .string({ unit: 'binary', minLength: 1, maxLength: max })
    .map((s) => s.replace(/[\r\n]/g, '').trim())
    .filter((s) => s.length > 0);

/** A well-formed fragment and what it must parse to. */
const validFrag = (): fc.Arbitrary<{ text: string; want: SdpFrag }> =>
  fc
    .record({
      ufrag: fc.option(token(), { nil: undefined }),
      pwd: fc.option(token(), { nil: undefined }),
      media: fc.array(fc.record({ mid: token(8), candidates: fc.array(token(60), { maxLength: 4 }) }), { maxLength: 3 }),
      loose: fc.array(token(60), { maxLength: 2 }),
      end: fc.boolean(),
    })
    .map(({ ufrag, pwd, media, loose, end }) => {
      const lines: string[] = [];
      if (ufrag !== undefined) lines.push(`a=ice-ufrag:${ufrag}`);
      if (pwd !== undefined) lines.push(`a=ice-pwd:${pwd}`);
      const candidates: SdpFrag['candidates'] = [];
      // Candidates before any m= line have no mid.
      for (const c of loose) {
        lines.push(`a=candidate:${c}`);
        candidates.push({ mid: null, candidate: `candidate:${c}` });
      }
      for (const m of media) {
        lines.push('m=audio 9 RTP/AVP 0', `a=mid:${m.mid}`);
        for (const c of m.candidates) {
          lines.push(`a=candidate:${c}`);
          candidates.push({ mid: m.mid, candidate: `candidate:${c}` });
        }
      }
      if (end) lines.push('a=end-of-candidates');
      return { text: lines.map((l) => `${l}\r\n`).join(''), want: { ufrag, pwd, candidates, endOfCandidates: end } };
    });

export const fragInput = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: mutatedLines(SDPFRAG_SAMPLES, sdpfragLine()) },
    { weight: 2, arbitrary: mutatedText(SDPFRAG_SAMPLES) },
    { weight: 2, arbitrary: fc.array(sdpfragLine(), { maxLength: 12 }).map((l) => l.join('\r\n')) },
    { weight: 1, arbitrary: weirdString(200) },
  );

export const fuzzSdpFragParser = fuzzTarget('sdpfrag-parser', { server: false }, async ({ tally }) => ({
  property: fc.property(
    fc.oneof(
      fragInput().map((text) => ({ text, want: undefined })),
      validFrag(),
    ),
    ({ text, want }) => {
      let frag: SdpFrag;
      try {
        frag = parseSdpFrag(text);
      } catch (err) {
        expect(
          err instanceof Error && /^not an SDP line: /.test(err.message),
          'parseSdpFrag threw something else than its "not an SDP line" error',
          String(err),
        );
        expect(want === undefined, 'a valid fragment was refused', text);
        tally.reject();
        return;
      }
      tally.accept();
      expect(Array.isArray(frag.candidates) && typeof frag.endOfCandidates === 'boolean', 'a malformed fragment came back', frag);
      for (const c of frag.candidates) expect(c.candidate.startsWith('candidate:'), 'a candidate does not start with "candidate:"', c);
      if (want) {
        expect(frag.ufrag === want.ufrag && frag.pwd === want.pwd, 'credentials did not round-trip', { frag, want });
        expect(frag.endOfCandidates === want.endOfCandidates, 'end-of-candidates did not round-trip', { frag, want });
        expect(JSON.stringify(frag.candidates) === JSON.stringify(want.candidates), 'candidates did not round-trip', { frag, want });
      }
    },
  ),
}));
