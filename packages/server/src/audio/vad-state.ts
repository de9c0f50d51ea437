/**
 * The speech/silence decision over window probabilities, as a pure state machine (positions in 16 kHz samples).
 * Speech begins at a window with probability ≥ `threshold` and is confirmed once `minSpeech` samples of such windows
 * have been seen; it ends when probabilities stay below `threshold - 0.15` (hysteresis, as in Silero's and
 * @ricky0123/vad's iterators) for `minSilence` samples. A candidate that ends before it is confirmed is forgotten.
 * Reported positions: start = first speech window minus `pad` (never before the previous end), end = start of the
 * silence that ended it.
 */

export interface VadDecisionParams {
  threshold: number;
  minSpeech: number;
  minSilence: number;
  pad: number;
}

export type VadDecision = { type: 'start'; pos: number } | { type: 'end'; pos: number; start: number };

export class VadStateMachine {
  readonly #p: VadDecisionParams;
  readonly #negative: number;
  /** Candidate or confirmed speech: its (padded) start, speech samples seen, confirmed? */
  #speech: { start: number; speechSamples: number; confirmed: boolean } | undefined;
  /** Where the current run of silence began, while in speech. */
  #silenceStart: number | undefined;
  #lastEnd = 0;

  constructor(p: VadDecisionParams) {
    this.#p = p;
    this.#negative = Math.max(0, p.threshold - 0.15);
  }

  get speaking(): boolean {
    return this.#speech?.confirmed ?? false;
  }

  /** The window [pos, pos + length) had speech probability `prob`; windows come in order, gaps allowed. */
  window(pos: number, length: number, prob: number): VadDecision | undefined {
    const sp = this.#speech;
    if (!sp) {
      if (prob < this.#p.threshold) return undefined;
      this.#speech = { start: Math.max(this.#lastEnd, pos - this.#p.pad, 0), speechSamples: length, confirmed: false };
      this.#silenceStart = undefined;
      return this.#confirm();
    }
    if (prob >= this.#p.threshold) {
      this.#silenceStart = undefined;
      sp.speechSamples += length;
      return this.#confirm();
    }
    if (prob < this.#negative) this.#silenceStart ??= pos;
    if (this.#silenceStart !== undefined && pos + length - this.#silenceStart >= this.#p.minSilence) {
      const end = this.#silenceStart;
      this.#speech = this.#silenceStart = undefined;
      if (!sp.confirmed) return undefined;
      this.#lastEnd = end;
      return { type: 'end', pos: end, start: sp.start };
    }
    return undefined;
  }

  #confirm(): VadDecision | undefined {
    const sp = this.#speech!;
    if (sp.confirmed || sp.speechSamples < this.#p.minSpeech) return undefined;
    sp.confirmed = true;
    return { type: 'start', pos: sp.start };
  }
}
