import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { KeyRecord } from './key-policy.js';
import { readKeysFile, type KeyStore } from './key-store.js';

/**
 * Reloads the keys file into `store` when it changes (editors that replace the file included: the directory is
 * watched). A file that fails to parse keeps the previous keys and is reported; the next good write applies.
 */
export function watchKeysFile(
  path: string,
  store: KeyStore,
  log: { info(o: object, m: string): void; error(o: object, m: string): void },
  /** Keys that stay whatever the file says (--api-keys). */
  fixed: ReadonlyArray<string | KeyRecord> = [],
  /** After each reload that applied (e.g. to end the sessions of removed keys). */
  onReloaded: () => void = () => undefined,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const reload = (): void => {
    try {
      const records = readKeysFile(path);
      store.replace([...fixed, ...records]);
      log.info({ keys: records.length, file: path }, 'keys file reloaded');
      onReloaded();
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err), file: path }, 'keys file not reloaded; keeping the previous keys');
    }
  };
  let watcher: FSWatcher;
  const dir = dirname(path);
  const base = basename(path);
  try {
    watcher = watch(dir, (_event, file) => {
      // The file itself, or Kubernetes' `..data` symlink swap of a mounted Secret/ConfigMap (names no file).
      if (file !== null && file !== base && !file.startsWith('..')) return;
      // Editors write in several steps: settle first.
      clearTimeout(timer);
      timer = setTimeout(reload, 100);
    });
  } catch (err) {
    log.error({ err: err instanceof Error ? err.message : String(err), file: path }, 'cannot watch the keys file; changes need a restart');
    return () => undefined;
  }
  watcher.unref();
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
