import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { holdBackCandidates } from '../src/webrtc-publisher.js';

const OFFER = [
  'v=0',
  'o=rtc 1 0 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=video 40000 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 192.168.1.5',
  'a=mid:0',
  'a=sendonly',
  'a=candidate:1 1 UDP 2122317823 192.168.1.5 40000 typ host',
  'a=candidate:2 1 UDP 2122317567 fd00::5 40000 typ host',
  'a=end-of-candidates',
  'm=application 40000 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 192.168.1.5',
  'a=mid:1',
  'a=sctp-port:5000',
  '',
].join('\r\n');

describe('holdBackCandidates (offers without candidates, trickled after the answer)', () => {
  test('the offer keeps every other line; the candidates become a fragment with their mid and the end marker', () => {
    const { offer, candidates } = holdBackCandidates(OFFER);
    assert.doesNotMatch(offer, /a=candidate|a=end-of-candidates/);
    assert.equal(
      offer,
      OFFER.split('\r\n')
        .filter((l) => !l.startsWith('a=candidate') && l !== 'a=end-of-candidates')
        .join('\r\n'),
    );
    assert.ok(offer.endsWith('\r\n'));
    assert.equal(
      candidates,
      'a=mid:0\r\na=candidate:1 1 UDP 2122317823 192.168.1.5 40000 typ host\r\na=candidate:2 1 UDP 2122317567 fd00::5 40000 typ host\r\na=end-of-candidates\r\n',
    );
  });

  test('gathering not complete: no end marker; no candidates: an empty fragment', () => {
    const partial = OFFER.replace('a=end-of-candidates\r\n', '');
    assert.doesNotMatch(holdBackCandidates(partial).candidates, /end-of-candidates/);
    const none = OFFER.split('\r\n')
      .filter((l) => !l.startsWith('a=candidate'))
      .join('\r\n');
    assert.deepEqual(holdBackCandidates(none), { offer: none.replace('a=end-of-candidates\r\n', ''), candidates: '' });
  });
});
