import type { IceRoutesOptions } from './ice-routes.js';
import { turnCredentials } from './turn-credentials.js';

/** RFC 9725 `Link: <url>; rel="ice-server"` headers for the configured STUN/TURN servers (fresh credentials). */
export function iceServerLinks(ice: Omit<IceRoutesOptions, 'keys'>, tag: string): string[] {
  const links = ice.stunUrls.map((u) => `<${u}>; rel="ice-server"`);
  if (ice.turnSecret && ice.turnUrls.length > 0) {
    const c = turnCredentials(ice.turnSecret, ice.turnTtlSeconds, tag, Date.now());
    for (const u of ice.turnUrls) links.push(`<${u}>; rel="ice-server"; username="${c.username}"; credential="${c.credential}"; credential-type="password"`);
  }
  return links;
}
