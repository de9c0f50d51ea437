import { networkInterfaces } from 'node:os';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Coturn {
  port: number;
  stop(): Promise<void>;
  output(): string;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The first IPv4 address of a non-loopback interface, else loopback. */
function relayIp(): string {
  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal);
  return external?.address ?? '127.0.0.1';
}

/** Debian's coturn on 127.0.0.1 with a private port, for tests. `extraArgs` picks the auth mode. */
export async function startCoturn(extraArgs: string[] = ['--no-auth']): Promise<Coturn> {
  const port = await freeUdpPort();
  const dir = mkdtempSync(join(tmpdir(), 'sightline-coturn-'));
  const proc = spawn(
    'turnserver',
    [
      '-n',
      '--listening-ip=127.0.0.1',
      `--listening-port=${port}`,
      // Relay from this machine's interface address, not loopback: a media server whose sockets are bound to the
      // wildcard address (libdatachannel) answers a relayed check from the address the relay sent to, and coturn only
      // forwards packets from the peer address the client has a permission for.
      `--relay-ip=${relayIp()}`,
      '--min-port=49200',
      '--max-port=49900',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      '--allow-loopback-peers',
      '--simple-log',
      '--log-file=stdout',
      `--pidfile=${dir}/turn.pid`,
      '--realm=sightline.test',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!/listener opened|Total General servers/i.test(out)) {
    if (proc.exitCode !== null) throw new Error(`coturn exited ${proc.exitCode}: ${out}`);
    if (Date.now() > deadline) throw new Error(`coturn did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    output: () => out,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
