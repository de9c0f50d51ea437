import type { IceServer } from 'node-datachannel';

/** An ICE server as WebRTC spells it (RTCIceServer). */
export interface IceServerInit {
  urls: string | string[];
  username?: string | undefined;
  credential?: string | undefined;
}

/** `{urls, username, credential}` → libdatachannel's ICE server form (one entry per URL; unknown schemes skipped). */
export function iceServersOf(servers: readonly IceServerInit[]): Array<string | IceServer> {
  const out: Array<string | IceServer> = [];
  for (const s of servers) {
    for (const url of Array.isArray(s.urls) ? s.urls : [s.urls]) {
      const m = /^(stun|turns?):([^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/.exec(url);
      if (!m) continue;
      const [, scheme, hostname, port, transport] = m;
      if (scheme === 'stun') out.push(`stun:${hostname}:${port ?? 3478}`);
      else
        out.push({
          hostname: hostname!,
          port: Number(port ?? (scheme === 'turns' ? 5349 : 3478)),
          ...(s.username !== undefined ? { username: s.username } : {}),
          ...(s.credential !== undefined ? { password: s.credential } : {}),
          relayType: scheme === 'turns' ? 'TurnTls' : transport === 'tcp' ? 'TurnTcp' : 'TurnUdp',
        });
    }
  }
  return out;
}
