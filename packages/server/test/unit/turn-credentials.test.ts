import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { turnCredentials } from '../../src/api/turn-credentials.js';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('TURN REST credentials', () => {
  test('username is expiry:tag and the credential is base64 HMAC-SHA1 of it (vector from Python hmac)', () => {
    const c = turnCredentials('north-secret', 3600, '3f2a', 1_700_000_000_000);
    assert.deepEqual(c, { username: '1700003600:3f2a', credential: 'ECtfeFsSpm2lVO+SstlbeK2NFmk=', expiresAt: 1_700_003_600 });
  });

  test('ICE options: comma lists, URL schemes checked, TTL bounded', () => {
    const c = loadConfig(
      ['--turn-urls', 'turn:127.0.0.1:3478,turns:t.example:5349?transport=tcp', '--turn-secret', 's', '--stun-urls', 'stun:s.example:3478'],
      {},
    );
    assert.deepEqual(c.turnUrls, ['turn:127.0.0.1:3478', 'turns:t.example:5349?transport=tcp']);
    assert.deepEqual(c.stunUrls, ['stun:s.example:3478']);
    assert.equal(c.turnTtl, 3600);
    assert.throws(() => loadConfig(['--turn-urls', 'http://x'], {}), ConfigError);
    assert.throws(() => loadConfig(['--turn-ttl', '5'], {}), ConfigError);
    assert.equal(loadConfig([], { SIGHTLINE_TURN_TTL: '600' }).turnTtl, 600);
  });
});
