import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { redactUrl } from '../../src/api/redact-url.js';

describe('redactUrl: credentials in query strings never reach a log line', () => {
  test('key, api_key, api-key, token, access_token, secret and password values are replaced; the rest stays', () => {
    assert.equal(redactUrl('/?key=abc&autostart=1'), '/?key=[REDACTED]&autostart=1');
    assert.equal(redactUrl('/ws?api_key=s3cr3t&processor=face'), '/ws?api_key=[REDACTED]&processor=face');
    assert.equal(
      redactUrl('/x?API-KEY=a&Token=b&access_token=c&secret=d&password=e'),
      '/x?API-KEY=[REDACTED]&Token=[REDACTED]&access_token=[REDACTED]&secret=[REDACTED]&password=[REDACTED]',
    );
    // A %-encoded name is recognised too.
    assert.equal(redactUrl('/?%6Bey=abc'), '/?%6Bey=[REDACTED]');
  });
  test('URLs without credentials, bare flags and malformed escapes are left as they are', () => {
    for (const url of ['/healthz', '/?processor=face&min_score=0.5', '/?key', '/?%E0%A4%A=1', '/?monkey=1']) assert.equal(redactUrl(url), url);
  });
});
