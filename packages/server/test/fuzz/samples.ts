/**
 * Valid inputs the fuzz targets mutate: SDP offers as Chromium and libdatachannel write them (captured, with TEST-NET
 * addresses), trickle fragments, and SDP lines to insert. The libdatachannel offers are what `NodePeer` (the Node
 * publisher) sends; the fuzz server also makes fresh ones at start (`FuzzServer.offers`), so both fixed and live
 * samples are mutated.
 */
import fc from 'fast-check';
import { NASTY_NUMBER_TEXT, weirdString } from './mutators.js';

const crlf = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;

/** Chromium 13x: audio (Opus, RED), video (VP8, VP9, AV1, H.264 with RTX), a DataChannel; candidates included. */
export const CHROMIUM_OFFER = crlf([
  'v=0',
  'o=- 4215703683712315442 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 2',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS 6d0d3b7e-4f3c-4a4e-9d67-2f1f9c3f5a11',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1467250027 1 udp 2122260223 192.0.2.10 54321 typ host generation 0 network-id 1',
  'a=candidate:3985231479 1 udp 1686052607 198.51.100.7 54321 typ srflx raddr 192.0.2.10 rport 54321 generation 0 network-id 1',
  'a=candidate:2640131521 1 udp 2122262783 7c7e0a28-7d1b-4d35-9a0e-d1f3c2b1a9e4.local 60001 typ host generation 0 network-id 2',
  'a=candidate:467250027 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active generation 0 network-id 1',
  'a=ice-ufrag:Zk8q',
  'a=ice-pwd:3jX7Hq0yYt2l5q9K1m4N8b6V',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3B:F2:7A:6B:5E:C3:2E:DD:F2:AB:2B:09',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendrecv',
  'a=msid:6d0d3b7e-4f3c-4a4e-9d67-2f1f9c3f5a11 1b8e4e1c-2d5a-4d0b-8a1e-3c9f7b2d6e40',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:2835217431 cname:QkXf3Yb9pXq2Zm1w',
  'a=ssrc:2835217431 msid:6d0d3b7e-4f3c-4a4e-9d67-2f1f9c3f5a11 1b8e4e1c-2d5a-4d0b-8a1e-3c9f7b2d6e40',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 45 46 102 103 127 121 35 36',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Zk8q',
  'a=ice-pwd:3jX7Hq0yYt2l5q9K1m4N8b6V',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3B:F2:7A:6B:5E:C3:2E:DD:F2:AB:2B:09',
  'a=setup:actpass',
  'a=mid:1',
  'a=extmap:14 urn:ietf:params:rtp-hdrext:toffset',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:13 urn:3gpp:video-orientation',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  'a=sendrecv',
  'a=msid:6d0d3b7e-4f3c-4a4e-9d67-2f1f9c3f5a11 9a3c5e7f-1b2d-4c6e-8f0a-2b4d6f8a0c1e',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtcp-fb:96 transport-cc',
  'a=rtcp-fb:96 ccm fir',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:98 VP9/90000',
  'a=rtcp-fb:98 nack pli',
  'a=fmtp:98 profile-id=0',
  'a=rtpmap:99 rtx/90000',
  'a=fmtp:99 apt=98',
  'a=rtpmap:45 AV1/90000',
  'a=rtcp-fb:45 nack pli',
  'a=fmtp:45 level-idx=5;profile=0;tier=0',
  'a=rtpmap:46 rtx/90000',
  'a=fmtp:46 apt=45',
  'a=rtpmap:102 H264/90000',
  'a=rtcp-fb:102 goog-remb',
  'a=rtcp-fb:102 nack',
  'a=rtcp-fb:102 nack pli',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  'a=rtpmap:127 H264/90000',
  'a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f',
  'a=rtpmap:121 rtx/90000',
  'a=fmtp:121 apt=127',
  'a=rtpmap:35 red/90000',
  'a=rtpmap:36 ulpfec/90000',
  'a=ssrc-group:FID 1846251537 3377934461',
  'a=ssrc:1846251537 cname:QkXf3Yb9pXq2Zm1w',
  'a=ssrc:3377934461 cname:QkXf3Yb9pXq2Zm1w',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:Zk8q',
  'a=ice-pwd:3jX7Hq0yYt2l5q9K1m4N8b6V',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3B:F2:7A:6B:5E:C3:2E:DD:F2:AB:2B:09',
  'a=setup:actpass',
  'a=mid:2',
  'a=sctp-port:5000',
  'a=max-message-size:262144',
]);

/** libdatachannel (the Node publisher): VP8 video sendonly and a DataChannel, candidates held back. */
export const LIBDATACHANNEL_OFFER = crlf([
  'v=0',
  'o=rtc 2774721380 0 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=group:LS 0',
  'a=msid-semantic:WMS *',
  'a=ice-options:ice2,trickle',
  'a=fingerprint:sha-256 C4:81:C0:4C:23:F4:65:E5:26:D5:C5:C8:42:ED:89:29:23:9C:28:86:E9:F2:76:9C:9D:34:81:E6:C5:F6:64:C2',
  'm=video 51321 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 192.0.2.2',
  'a=mid:0',
  'a=sendonly',
  'a=ssrc:3867811311 cname:sightline-node',
  'a=ssrc:3867811311 msid:sightline-node video',
  'a=msid:sightline-node video',
  'a=rtcp-mux',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtcp-fb:96 goog-remb',
  'a=setup:actpass',
  'a=ice-ufrag:Ja3H',
  'a=ice-pwd:2IpHuFHrSzvrIZNzZQbQ3y',
  'm=application 51321 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 192.0.2.2',
  'a=mid:1',
  'a=sendrecv',
  'a=sctp-port:5000',
  'a=max-message-size:1048576',
  'a=setup:actpass',
  'a=ice-ufrag:Ja3H',
  'a=ice-pwd:2IpHuFHrSzvrIZNzZQbQ3y',
]);

/** libdatachannel: H.264 sendrecv (video back / WHEP-able), Opus audio, a DataChannel. */
export const LIBDATACHANNEL_AV_OFFER = crlf([
  'v=0',
  'o=rtc 1002903097 0 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 2',
  'a=group:LS 0 1',
  'a=msid-semantic:WMS *',
  'a=ice-options:ice2,trickle',
  'a=fingerprint:sha-256 DE:B7:14:51:3D:D6:C6:4E:A6:9B:22:96:87:BC:CE:24:EC:EF:0C:2B:D5:4B:E0:0E:02:94:EB:8E:A1:1C:B9:BF',
  'm=video 36069 UDP/TLS/RTP/SAVPF 102',
  'c=IN IP4 192.0.2.2',
  'a=mid:0',
  'a=sendrecv',
  'a=ssrc:3788185147 cname:sightline-node',
  'a=msid:sightline-node video',
  'a=rtcp-mux',
  'a=rtpmap:102 H264/90000',
  'a=rtcp-fb:102 nack',
  'a=rtcp-fb:102 nack pli',
  'a=rtcp-fb:102 goog-remb',
  'a=fmtp:102 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
  'a=setup:actpass',
  'a=ice-ufrag:Uyzv',
  'a=ice-pwd:ROaqvsXrOJfv7NocPv3+z0',
  'm=audio 36069 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 192.0.2.2',
  'a=mid:1',
  'a=sendonly',
  'a=ssrc:2529939458 cname:sightline-node',
  'a=msid:sightline-node audio',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;maxaveragebitrate=96000;stereo=1;sprop-stereo=1;useinbandfec=1',
  'a=setup:actpass',
  'a=ice-ufrag:Uyzv',
  'a=ice-pwd:ROaqvsXrOJfv7NocPv3+z0',
  'm=application 36069 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 192.0.2.2',
  'a=mid:2',
  'a=sendrecv',
  'a=sctp-port:5000',
  'a=max-message-size:1048576',
  'a=setup:actpass',
  'a=ice-ufrag:Uyzv',
  'a=ice-pwd:ROaqvsXrOJfv7NocPv3+z0',
]);

/** A WHEP viewer's offer (a recvonly video section, nothing sent). */
export const WHEP_OFFER = crlf([
  'v=0',
  'o=- 1 0 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:00:AA:BB:CC:DD:EE:FF:11:22:33:44:55:66:77:88:99:00:AA:BB:CC:DD:EE:FF',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=recvonly',
  'a=rtcp-mux',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 packetization-mode=1;profile-level-id=42e01f',
  'a=setup:actpass',
  'a=ice-ufrag:whep',
  'a=ice-pwd:whepwhepwhepwhepwhepwhep',
]);

export const SDP_SAMPLES: readonly string[] = [CHROMIUM_OFFER, LIBDATACHANNEL_OFFER, LIBDATACHANNEL_AV_OFFER, WHEP_OFFER];

/** Trickle fragments (RFC 8840) as clients PATCH them. */
export const SDPFRAG_SAMPLES: readonly string[] = [
  crlf([
    'a=ice-ufrag:Ja3H',
    'a=ice-pwd:2IpHuFHrSzvrIZNzZQbQ3y',
    'm=audio 9 RTP/AVP 0',
    'a=mid:0',
    'a=candidate:1 1 UDP 2114977791 192.0.2.2 49382 typ host',
    'a=end-of-candidates',
  ]),
  crlf(['a=mid:0', 'a=candidate:2 1 UDP 2116026111 fd00::2 49382 typ host', 'a=candidate:1 1 UDP 2114977791 192.0.2.2 49382 typ host', 'a=end-of-candidates']),
  crlf(['a=candidate:3985231479 1 udp 1686052607 198.51.100.7 54321 typ srflx raddr 192.0.2.10 rport 54321 generation 0']),
  crlf(['a=mid:1', 'a=candidate:2640131521 1 udp 2122262783 7c7e0a28-7d1b-4d35-9a0e-d1f3c2b1a9e4.local 60001 typ host']),
  crlf(['a=end-of-candidates']),
];

/** SDP lines to insert into offers: each kind of line the server reads, with values from valid to absurd. */
export const sdpLine = (): fc.Arbitrary<string> => {
  const num = fc.oneof(fc.nat(200).map(String), fc.constantFrom(...NASTY_NUMBER_TEXT));
  const codec = fc.constantFrom('VP8', 'VP9', 'H264', 'h264', 'AV1', 'H265', 'HEVC', 'opus', 'OPUS', 'rtx', 'red', 'ulpfec', 'FOO', '', 'VP8/', 'H264 ');
  const word = fc.oneof(fc.constantFrom('0', '1', '2', 'x0', 'audio', 'video', 'data', ''), weirdString(12));
  return fc.oneof(
    fc.tuple(num, codec, num).map(([pt, c, rate]) => `a=rtpmap:${pt} ${c}/${rate}`),
    fc.tuple(num, codec, num, num).map(([pt, c, rate, ch]) => `a=rtpmap:${pt} ${c}/${rate}/${ch}`),
    fc.tuple(num, num).map(([pt, apt]) => `a=fmtp:${pt} apt=${apt}`),
    fc.tuple(num, weirdString(40)).map(([pt, f]) => `a=fmtp:${pt} ${f}`),
    fc
      .tuple(num, fc.constantFrom('packetization-mode=1;profile-level-id=42e01f', 'profile-level-id=640c1f', 'packetization-mode=9', 'profile-level-id='))
      .map(([pt, f]) => `a=fmtp:${pt} ${f}`),
    fc
      .tuple(fc.oneof(num, fc.constant('*')), fc.constantFrom('nack', 'nack pli', 'goog-remb', 'transport-cc', 'ccm fir', ''))
      .map(([pt, fb]) => `a=rtcp-fb:${pt} ${fb}`),
    fc
      .tuple(fc.constantFrom('video', 'audio', 'application', 'text', 'message', ''), num, fc.array(num, { maxLength: 6 }))
      .map(([kind, port, pts]) => `m=${kind} ${port} UDP/TLS/RTP/SAVPF ${pts.join(' ')}`),
    num.map((port) => `m=application ${port} UDP/DTLS/SCTP webrtc-datachannel`),
    word.map((mid) => `a=mid:${mid}`),
    fc.array(word, { maxLength: 6 }).map((mids) => `a=group:BUNDLE ${mids.join(' ')}`),
    fc.constantFrom('a=sendrecv', 'a=sendonly', 'a=recvonly', 'a=inactive', 'a=rtcp-mux', 'a=rtcp-rsize', 'a=end-of-candidates', 'a=ice-lite'),
    fc
      .tuple(num, num, fc.constantFrom('192.0.2.3', '::1', '0.0.0.0', 'x.local', '999.1.1.1', ''), num)
      .map(([f, p, ip, port]) => `a=candidate:${f} 1 udp ${p} ${ip} ${port} typ host`),
    fc.tuple(num, weirdString(20)).map(([s, v]) => `a=ssrc:${s} cname:${v}`),
    fc.tuple(num, weirdString(30)).map(([id, uri]) => `a=extmap:${id} ${uri}`),
    num.map((p) => `a=sctp-port:${p}`),
    num.map((n) => `a=max-message-size:${n}`),
    fc.constantFrom('actpass', 'active', 'passive', 'holdconn', '').map((s) => `a=setup:${s}`),
    fc.tuple(fc.constantFrom('sha-256', 'sha-1', 'md5', ''), fc.oneof(fc.constant('AA:BB'), weirdString(20))).map(([h, v]) => `a=fingerprint:${h} ${v}`),
    weirdString(24).map((u) => `a=ice-ufrag:${u}`),
    weirdString(24).map((p) => `a=ice-pwd:${p}`),
    fc.constantFrom('IN IP4 0.0.0.0', 'IN IP6 ::', 'IN IP4', '').map((c) => `c=${c}`),
    fc.constantFrom('v=0', 'v=1', 'o=- 0 0 IN IP4 127.0.0.1', 's=-', 't=0 0', 'b=AS:99999999999'),
    fc.tuple(fc.constantFrom('a', 'b', 'c', 'k', 'z', 'x'), weirdString(20)).map(([l, v]) => `${l}=${v}`),
    weirdString(30),
  );
};

/** A trickle fragment line: candidates with odd fields, mids, credentials, junk. */
export const sdpfragLine = (): fc.Arbitrary<string> => {
  const num = fc.oneof(fc.nat(70_000).map(String), fc.constantFrom(...NASTY_NUMBER_TEXT));
  const addr = fc.constantFrom('192.0.2.2', '127.0.0.1', '::1', 'fd00::2', '0.0.0.0', '255.255.255.255', 'a.local', 'host.invalid', '1.2.3', '[::1]', '');
  return fc.oneof(
    fc
      .tuple(
        num,
        fc.constantFrom('1', '2', '0', '256'),
        fc.constantFrom('udp', 'UDP', 'tcp', 'sctp', ''),
        num,
        addr,
        num,
        fc.constantFrom('host', 'srflx', 'prflx', 'relay', 'bogus'),
      )
      .map(([f, comp, proto, prio, ip, port, typ]) => `a=candidate:${f} ${comp} ${proto} ${prio} ${ip} ${port} typ ${typ}`),
    fc.tuple(num, addr, num, addr, num).map(([f, ip, port, rip, rport]) => `a=candidate:${f} 1 udp 1 ${ip} ${port} typ srflx raddr ${rip} rport ${rport}`),
    weirdString(40).map((c) => `a=candidate:${c}`),
    fc.oneof(fc.constantFrom('0', '1', '2', '99', ''), weirdString(12)).map((m) => `a=mid:${m}`),
    weirdString(20).map((u) => `a=ice-ufrag:${u}`),
    weirdString(30).map((p) => `a=ice-pwd:${p}`),
    fc.constantFrom('a=end-of-candidates', 'm=audio 9 RTP/AVP 0', 'a=ice-options:trickle', 'a=candidate:', 'a=', 'x=1', 'A=candidate:1'),
    weirdString(30),
  );
};

/**
 * An edit that keeps an offer consistent with itself (what line edits rarely manage): a payload type renumbered
 * everywhere it appears, a mid renamed in its section and the BUNDLE group (or made a duplicate of another's), a
 * codec renamed, a section's direction changed. Indexes are taken modulo what the offer has.
 */
export type SdpRewrite =
  | { op: 'pt'; index: number; to: string }
  | { op: 'mid'; index: number; to: string }
  | { op: 'dupMid'; index: number; of: number }
  | { op: 'codec'; index: number; to: string }
  | { op: 'direction'; index: number; to: string };

export const sdpRewrite = (): fc.Arbitrary<SdpRewrite> =>
  fc.oneof(
    fc.record({ op: fc.constant('pt' as const), index: fc.nat(), to: fc.oneof(fc.nat(300).map(String), fc.constantFrom(...NASTY_NUMBER_TEXT)) }),
    fc.record({
      op: fc.constant('mid' as const),
      index: fc.nat(),
      to: fc.oneof(fc.constantFrom('a', 'video', 'a b', 'é', '', '%', '0 1', 'x'.repeat(300)), weirdString(20)),
    }),
    fc.record({ op: fc.constant('dupMid' as const), index: fc.nat(), of: fc.nat() }),
    fc.record({
      op: fc.constant('codec' as const),
      index: fc.nat(),
      to: fc.constantFrom('VP8', 'VP9', 'H264', 'AV1', 'H265', 'HEVC', 'rtx', 'opus', 'red', 'FOO', 'h264', ''),
    }),
    fc.record({ op: fc.constant('direction' as const), index: fc.nat(), to: fc.constantFrom('sendrecv', 'sendonly', 'recvonly', 'inactive', 'bogus') }),
  );

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function applySdpRewrite(sdp: string, e: SdpRewrite): string {
  const [head, ...sections] = sdp.split(/(?=^m=)/m);
  if (sections.length === 0) return sdp;
  const at = (i: number): number => i % sections.length;
  const midOf = (s: string): string | undefined => /^a=mid:(.*?)\r?$/m.exec(s)?.[1];
  switch (e.op) {
    case 'pt': {
      const pts = [...sdp.matchAll(/^a=rtpmap:(\d+) /gm)].map((m) => m[1]!);
      if (pts.length === 0) return sdp;
      const pt = pts[e.index % pts.length]!;
      const re = new RegExp(`(^m=\\S+ \\S+ \\S+(?: \\S+)*?|^a=(?:rtpmap|fmtp|rtcp-fb):|apt=)\\b${pt}\\b`, 'gm');
      // m-lines list several payload types: replace each occurrence on them too.
      return sdp.replace(/^m=.*$/gm, (l) => l.replace(new RegExp(`(?<= )${pt}(?= |$)`, 'g'), e.to)).replace(re, (m) => m.replace(new RegExp(`${pt}$`), e.to));
    }
    case 'mid':
    case 'dupMid': {
      const i = at(e.index);
      const old = midOf(sections[i]!);
      if (old === undefined) return sdp;
      const to = e.op === 'mid' ? e.to : (midOf(sections[at(e.of)]!) ?? '0');
      sections[i] = sections[i]!.replace(/^a=mid:.*?(\r?)$/m, `a=mid:${to}$1`);
      const group = (h: string): string =>
        h.replace(
          /^(a=group:(?:BUNDLE|LS))((?: \S+)*)/gm,
          (_m, g: string, ids: string) => `${g}${ids.replace(new RegExp(`(?<= )${escapeRe(old)}(?= |$)`), to)}`,
        );
      return group(head!) + sections.join('');
    }
    case 'codec': {
      const names = [...sdp.matchAll(/^a=rtpmap:\d+ ([^/\r\n]+)\//gm)];
      if (names.length === 0) return sdp;
      const m = names[e.index % names.length]!;
      return sdp.slice(0, m.index! + m[0].length - m[1]!.length - 1) + e.to + sdp.slice(m.index! + m[0].length - 1);
    }
    case 'direction': {
      const i = at(e.index);
      const s = sections[i]!;
      sections[i] = /^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.test(s)
        ? s.replace(/^a=(sendrecv|sendonly|recvonly|inactive)(\r?)$/m, `a=${e.to}$2`)
        : s.replace(/\r?\n$/, `\r\na=${e.to}\r\n`);
      return head! + sections.join('');
    }
  }
}

/** One of `samples` with 1–3 consistent rewrites. */
export const rewrittenSdp = (samples: readonly string[]): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom(...samples), fc.array(sdpRewrite(), { minLength: 1, maxLength: 3 })).map(([s, edits]) => edits.reduce(applySdpRewrite, s));
