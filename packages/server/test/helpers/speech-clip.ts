/** Test audio for the audio tests: sentences spoken by espeak-ng, at 48 kHz (the rate WebRTC delivers). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const RATE = 48_000;
/** Samples in 10 ms, as RTCAudioSink delivers them. */
export const CHUNK = RATE / 100;

/** `text` spoken by espeak-ng (Debian's /usr/bin/espeak-ng), as 48 kHz mono Int16 (ffmpeg resamples). */
export function speak(text: string): Int16Array {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-speech-'));
  try {
    const wav = join(dir, 'speech.wav');
    const raw = join(dir, 'speech.raw');
    execFileSync('espeak-ng', ['-w', wav, text]);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', wav, '-ar', String(RATE), '-ac', '1', '-f', 's16le', raw]);
    const b = readFileSync(raw);
    return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The ground truth: first and last 10 ms window of `speech` above −50 dBFS RMS, as [start, end) in ms. */
export function speechBounds(speech: Int16Array): [number, number] {
  const active: number[] = [];
  for (let w = 0; (w + 1) * CHUNK <= speech.length; w++) {
    let sum = 0;
    for (let i = w * CHUNK; i < (w + 1) * CHUNK; i++) sum += speech[i]! ** 2;
    if (20 * Math.log10(Math.sqrt(sum / CHUNK) / 32768) > -50) active.push(w);
  }
  if (active.length === 0) throw new Error('no speech in the clip');
  return [active[0]! * 10, (active.at(-1)! + 1) * 10];
}

/** `lead` s of silence, the audio, `tail` s of silence. */
export function withSilence(audio: Int16Array, lead: number, tail: number): Int16Array {
  const out = new Int16Array(Math.round(lead * RATE) + audio.length + Math.round(tail * RATE));
  out.set(audio, Math.round(lead * RATE));
  return out;
}
