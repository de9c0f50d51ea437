/**
 * The URL a worker thread starts from: `file` (without extension) relative to `callerUrl`, the caller's
 * `import.meta.url`. Built code runs the `.js` file. Running from TypeScript sources (tests, tsx), worker threads do
 * not get tsx's loader, so a tiny ES module registers it first and then imports the `.ts` file.
 */
export function workerEntry(callerUrl: string, file: string): URL {
  if (!callerUrl.endsWith('.ts')) return new URL(`${file}.js`, callerUrl);
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`${file}.ts`, callerUrl).href;
  const src = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(src)}`);
}
