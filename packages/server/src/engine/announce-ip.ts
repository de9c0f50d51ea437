/**
 * For servers behind 1:1 NAT (cloud VMs, containers with published ports): rewrites the address of every IPv4 host
 * candidate in an SDP to the public `ip` the clients must use (ports stay). Pure.
 */
export function announceIp(sdp: string, ip: string): string {
  return sdp.replace(/^(a=candidate:\S+ \d+ \S+ \d+ )(\d{1,3}(?:\.\d{1,3}){3})( \d+ typ host)/gm, `$1${ip}$3`);
}
