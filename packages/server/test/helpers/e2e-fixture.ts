import { launchChromium } from './chromium.js';
import { ensurePanClip } from './clip.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

export interface E2eFixture {
  server: ServerProcess;
  browser: Awaited<ReturnType<typeof launchChromium>>;
  /** Closes the browser, then stops the server. */
  close(): Promise<void>;
}

/** The usual e2e setup: the built server as a child process with one API key, and Chromium with the pan clip. */
export async function startServerAndBrowser(apiKey: string, args: string[] = []): Promise<E2eFixture> {
  const server = await startServerProcess(args, { SIGHTLINE_API_KEYS: apiKey });
  try {
    const browser = await launchChromium(ensurePanClip());
    return {
      server,
      browser,
      close: async () => {
        await browser.close();
        await server.stop();
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
