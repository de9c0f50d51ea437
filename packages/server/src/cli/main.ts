#!/usr/bin/env node
/**
 * The `sightline` command. `sightline serve [options]` runs the server; every option also reads an environment
 * variable (see `sightline serve --help`).
 */
import { ConfigError, loadConfig, usage } from '../config.js';
import { createServer } from '../server.js';
import { INFER_SERVER_USAGE, inferServerCommand } from './infer-server-command.js';
import { STREAM_USAGE, streamCommand } from './stream-command.js';

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  if (command === 'stream') {
    // Exit with the command's status now rather than when node-datachannel's threads wind down.
    process.exit(await streamCommand(rest));
  }
  if (command === 'infer-server') {
    const status = await inferServerCommand(rest);
    process.exit(status ?? 0);
  }
  if (command === '--help' || command === '-h' || command === 'help' || rest.includes('--help') || rest.includes('-h')) {
    console.log(`${usage()}\n\n${STREAM_USAGE}\n\n${INFER_SERVER_USAGE}`);
    return;
  }
  if (command !== 'serve') {
    console.error(`unknown command "${command}"\n\n${usage()}`);
    process.exit(2);
  }
  let config;
  try {
    config = loadConfig(rest);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`sightline: ${err.message}\n\n${usage()}`);
      process.exit(2);
    }
    throw err;
  }
  const server = await createServer(config);
  const address = await server.listen();
  const base = config.basePath;
  const shown = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
  console.log(`sightline listening on ${address}`);
  const codecs = `video codecs: ${config.videoCodecs.join(', ')}${server.codecDevice ? `, codec device: ${server.codecDevice}` : ''}`;
  console.log(`  media:      libdatachannel + FFmpeg (${codecs})`);
  console.log(`  demo page:  ${shown}/`);
  console.log(`  offer:      POST ${shown}${base}/webrtc/offer   (processor: ${server.defaultProcessor})`);
  if (server.devKey) {
    console.log(`  no API key configured (SIGHTLINE_API_KEYS); generated a development key for this run:`);
    console.log(`  api-key:    ${server.devKey}`);
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    // SIGTERM drains (live sessions are told and may finish, up to --drain-timeout-ms); SIGINT (Ctrl-C) stops now.
    const drainMs = signal === 'SIGTERM' ? config.drainTimeoutMs : 0;
    server.app.log.info({ signal, drain_timeout_ms: drainMs, sessions: server.sessions.size }, 'shutting down');
    // Close everything, then exit explicitly: node-datachannel keeps a process alive until its cleanup() has run, and
    // a whole server did not exit within 10 s of it in the engine spike.
    const force = setTimeout(() => process.exit(1), drainMs + config.shutdownTimeoutMs);
    force.unref();
    server
      .drain(drainMs)
      .then(({ remaining }) => {
        if (drainMs > 0) server.app.log.info({ remaining }, remaining ? 'drain deadline reached; ending the remaining sessions' : 'drained');
        return server.close();
      })
      .then(
        () => process.exit(0),
        (err: unknown) => {
          console.error(err);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`sightline: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
