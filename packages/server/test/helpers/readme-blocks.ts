import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './paths.js';

/** One fenced code block of the README: its language, text and the line it starts on. */
export interface ReadmeBlock {
  lang: string;
  code: string;
  line: number;
}

/** Every fenced block of the repository's README, in order. */
export function readmeBlocks(): ReadmeBlock[] {
  const lines = readFileSync(`${repoRoot}README.md`, 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ lang: open[1]!, code: `${body.join('\n')}\n`, line: start + 1 });
  }
  return blocks;
}

const seedClient = fileURLToPath(new URL('../e2e/seed-client/seed-demo.py', import.meta.url));

/**
 * The seed's Python client with the README's edits applied (its ```diff blocks, in order, by `git apply`), written
 * to a fresh directory as demo.py; returns its path.
 */
export function seedClientWithReadmeEdits(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-seed-'));
  mkdirSync(dir, { recursive: true });
  copyFileSync(seedClient, join(dir, 'demo.py'));
  readmeBlocks()
    .filter((b) => b.lang === 'diff')
    .forEach((b, i) => {
      const patch = join(dir, `edit-${i}.diff`);
      writeFileSync(patch, b.code);
      execFileSync('git', ['apply', '--unsafe-paths', `edit-${i}.diff`], { cwd: dir, stdio: 'pipe' });
    });
  return join(dir, 'demo.py');
}

/** Splits a shell command line into words: quotes ('…', "…") group, `#` outside quotes starts a comment. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let inWord = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '#' && !inWord) break;
    else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unclosed quote in: ${line}`);
  if (inWord) words.push(cur);
  return words;
}
