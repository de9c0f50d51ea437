/** Every fuzz target, in the order the runner and the bounded pass run them. */
import { fuzzControlMessages } from './control-messages.fuzz.js';
import { fuzzDataChannel } from './datachannel.fuzz.js';
import { fuzzFrameChunks } from './frame-chunks.fuzz.js';
import type { FuzzTarget } from './fuzz-target.js';
import { fuzzKeysFile } from './keys-file.fuzz.js';
import { fuzzOfferBody } from './offer-body.fuzz.js';
import { fuzzQueryStrings } from './query-strings.fuzz.js';
import { fuzzRaces } from './races.fuzz.js';
import { fuzzSdpOffers } from './sdp-offers.fuzz.js';
import { fuzzSdpParsers } from './sdp-parsers.fuzz.js';
import { fuzzSdpFragParser } from './sdpfrag.fuzz.js';
import { fuzzTricklePatch } from './trickle.fuzz.js';
import { fuzzWebSocket } from './websocket.fuzz.js';
import { fuzzWhipWhep } from './whip-whep.fuzz.js';

export const TARGETS: readonly FuzzTarget[] = [
  // Pure parsers, no server.
  fuzzSdpParsers,
  fuzzSdpFragParser,
  fuzzControlMessages,
  fuzzFrameChunks,
  fuzzKeysFile,
  // Through the in-process server.
  fuzzOfferBody,
  fuzzSdpOffers,
  fuzzWhipWhep,
  fuzzTricklePatch,
  fuzzRaces,
  // Through a listening server, and a connected WebRTC client.
  fuzzWebSocket,
  fuzzDataChannel,
  // Last: the history then holds the sessions and results of the targets before (real cursors to mutate).
  fuzzQueryStrings,
];
