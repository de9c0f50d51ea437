/** Query parameters that carry credentials: the demo page's `?key=`, `api_key`, tokens. */
const SECRET_PARAM = /^(key|api[-_]?key|token|access[-_]?token|secret|password)$/i;

/**
 * A request URL fit for a log line: the value of every credential-like query parameter is replaced by `[REDACTED]`
 * (the name stays, so the log still shows that one was sent). Malformed %-escapes in a name leave it as it is.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((p) => {
      const eq = p.indexOf('=');
      if (eq < 0) return p;
      let name = p.slice(0, eq);
      try {
        name = decodeURIComponent(name.replaceAll('+', ' '));
      } catch {
        // keep the raw name
      }
      return SECRET_PARAM.test(name) ? `${p.slice(0, eq)}=[REDACTED]` : p;
    });
  return `${url.slice(0, q + 1)}${params.join('&')}`;
}
