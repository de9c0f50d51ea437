import type { DataChannel } from 'node-datachannel';
import type { EngineChannel } from '../media-engine.js';
import { release, retain } from '@sightline/media';

/** A DataChannel the client opened, as the session sees it. Binary messages arrive as ArrayBuffers of their own. */
export class NdcChannel implements EngineChannel {
  onMessage: EngineChannel['onMessage'];
  onOpen: EngineChannel['onOpen'];
  onClose: EngineChannel['onClose'];
  readonly label: string;
  #open: boolean;
  #detached = false;

  constructor(
    readonly dc: DataChannel,
    forget: () => void,
    /** Called on every message (the peer's idle clock). */
    touched: () => void = () => undefined,
  ) {
    this.label = dc.getLabel();
    retain(dc);
    // A channel the client opened is usually open by the time it is announced.
    this.#open = dc.isOpen();
    dc.onOpen(() => {
      this.#open = true;
      if (!this.#detached) this.onOpen?.();
    });
    dc.onClosed(() => {
      release(dc);
      this.#open = false;
      forget();
      if (!this.#detached) this.onClose?.();
    });
    dc.onMessage((msg) => {
      touched();
      if (this.#detached) return;
      if (typeof msg === 'string') this.onMessage?.(msg);
      else if (msg instanceof ArrayBuffer) this.onMessage?.(msg);
      else this.onMessage?.(msg.buffer.slice(msg.byteOffset, msg.byteOffset + msg.byteLength) as ArrayBuffer);
    });
  }

  get open(): boolean {
    return this.#open && !this.#detached;
  }

  get bufferedAmount(): number {
    try {
      return this.dc.bufferedAmount();
    } catch {
      return 0;
    }
  }

  send(text: string): boolean {
    if (!this.open) return false;
    try {
      return this.dc.sendMessage(text);
    } catch {
      return false;
    }
  }

  /** The peer is closing: no more callbacks to the session. */
  detach(): void {
    this.#detached = true;
    this.onMessage = this.onOpen = this.onClose = undefined;
  }
}
