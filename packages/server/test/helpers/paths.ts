import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const astronautPng = `${fixtures}astronaut.png`;

/** Where tests write what they make (clips, screenshots, logs): `.artifacts/` at the repo root, git-ignored. */
export function artifactsDir(sub: string): string {
  const dir = `${repoRoot}.artifacts/${sub}`;
  mkdirSync(dir, { recursive: true });
  return `${dir}/`;
}

/** The hand-measured face in astronaut.png: x, y, w, h. */
export const ASTRONAUT_FACE = { x: 178, y: 75, w: 96, h: 98 } as const;
