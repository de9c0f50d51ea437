import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkOfferSdp, MAX_MEDIA_SECTIONS, MAX_SDP_CHARS } from '../../src/engine/sdp-check.js';

const good = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 00:11',
  'a=mid:0',
  'a=sendonly',
  'a=rtpmap:96 VP8/90000',
  '',
].join('\r\n');

describe('checkOfferSdp', () => {
  test('accepts an offer with a media section', () => assert.equal(checkOfferSdp(good), undefined));
  test('accepts LF line endings', () => assert.equal(checkOfferSdp(good.replaceAll('\r\n', '\n')), undefined));
  test('rejects text that is not SDP', () => assert.match(checkOfferSdp('hello world')!, /v=0/));
  test('rejects a line that is not key=value', () => assert.match(checkOfferSdp(good.replace('s=-', 'garbage')), /not "<letter>=<value>"/));
  test('rejects an offer without media sections', () => {
    const noMedia = good
      .split('\r\n')
      .filter((l) => !l.startsWith('m='))
      .join('\r\n');
    assert.match(checkOfferSdp(noMedia)!, /no media section/);
  });
  test('rejects an offer without fingerprint', () => {
    assert.match(checkOfferSdp(good.replace(/a=fingerprint:.*\r\n/, ''))!, /fingerprint/);
  });
  test('rejects an offer without ICE credentials', () => {
    assert.match(checkOfferSdp(good.replace(/a=ice-ufrag:.*\r\n/, ''))!, /ice-ufrag/);
  });

  /** `good` with `n` video sections (mids 0…n-1), bundled as `bundle` says. */
  const sections = (n: number, bundle: 'all' | 'none' | 'first' = 'all') => {
    const [head, section] = good.split('a=group:BUNDLE 0\r\n') as [string, string];
    const mids = [...Array(n).keys()];
    const group = bundle === 'none' ? '' : `a=group:BUNDLE ${(bundle === 'first' ? [0] : mids).join(' ')}\r\n`;
    return head + group + mids.map((i) => section.replace('a=mid:0', `a=mid:${i}`)).join('');
  };
  test('accepts up to MAX_MEDIA_SECTIONS bundled sections, refuses more (an offer of hundreds builds as many transports)', () => {
    assert.equal(checkOfferSdp(sections(MAX_MEDIA_SECTIONS)), undefined);
    assert.match(checkOfferSdp(sections(MAX_MEDIA_SECTIONS + 1))!, /5 media sections; at most 4/);
    assert.match(checkOfferSdp(sections(100))!, /100 media sections/);
  });
  test('several sections must be bundled, every one of them', () => {
    assert.match(checkOfferSdp(sections(2, 'none'))!, /no a=group:BUNDLE/);
    assert.match(checkOfferSdp(sections(2, 'first'))!, /media section 1 is not in a=group:BUNDLE/);
    // A rejected section (port 0) need not be bundled; one section needs no group at all.
    const two = sections(2, 'first');
    const second = two.lastIndexOf('m=video 9 ');
    assert.equal(checkOfferSdp(`${two.slice(0, second)}m=video 0 ${two.slice(second + 'm=video 9 '.length)}`), undefined);
    assert.equal(checkOfferSdp(sections(1, 'none')), undefined);
  });
  test('payload types are 0–127, mids are unique tokens, BUNDLE names each once, v=0 comes first (found by the fuzz suite)', () => {
    assert.match(checkOfferSdp(good.replace('SAVPF 96', 'SAVPF 2147483648'))!, /payload type outside 0–127/);
    assert.match(checkOfferSdp(good.replace('SAVPF 96', 'SAVPF 96 128'))!, /payload type outside 0–127/);
    assert.equal(checkOfferSdp(good.replace('SAVPF 96', 'SAVPF 96 127 0')), undefined);
    assert.match(checkOfferSdp(good.replace('a=mid:0', 'a=mid:a b').replace('BUNDLE 0', 'BUNDLE a'))!, /a=mid must be a token/);
    assert.match(checkOfferSdp(sections(2).replace('a=mid:1', 'a=mid:0').replace('BUNDLE 0 1', 'BUNDLE 0'))!, /same a=mid/);
    assert.match(checkOfferSdp(sections(2).replace('BUNDLE 0 1', 'BUNDLE 0 1 1'))!, /names a section twice/);
    assert.match(checkOfferSdp(`\r\n${good}`)!, /must start with "v=0"/);
    // A DataChannel section's format is a name, not a payload type.
    assert.equal(checkOfferSdp(good.replace('m=video 9 UDP/TLS/RTP/SAVPF 96', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel')), undefined);
  });
  test('refuses an SDP longer than MAX_SDP_CHARS before parsing it', () => {
    assert.match(checkOfferSdp(good + `a=x-pad:${'x'.repeat(MAX_SDP_CHARS)}\r\n`)!, /characters long; at most 65536/);
  });
});

describe('parseSdpFrag (RFC 8840 trickle fragments)', () => {
  test('reads ICE credentials, candidates per mid, and end-of-candidates', async () => {
    const { parseSdpFrag } = await import('../../src/engine/sdpfrag.js');
    const f = parseSdpFrag(
      [
        'a=ice-ufrag:EsAw',
        'a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1',
        'm=audio 9 RTP/AVP 0',
        'a=mid:0',
        'a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0',
        'a=end-of-candidates',
        '',
      ].join('\r\n'),
    );
    assert.equal(f.ufrag, 'EsAw');
    assert.equal(f.pwd, 'P2uYro0UCOQ4zxjKXaWCBui1');
    assert.deepEqual(f.candidates, [{ mid: '0', candidate: 'candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0' }]);
    assert.equal(f.endOfCandidates, true);
  });
  test('rejects text that is not SDP', async () => {
    const { parseSdpFrag } = await import('../../src/engine/sdpfrag.js');
    assert.throws(() => parseSdpFrag('hello'), /not an SDP line/);
  });
});
