/**
 * node-datachannel crashes (in its C++ destructors, at `cleanup()` or exit) when a DataChannel or Track object is
 * garbage-collected before its `onClosed` has fired. Every one is retained here from creation until that callback,
 * whatever became of the peer that owned it.
 */
const retained = new Set<object>();

export function retain(native: object): void {
  retained.add(native);
}

export function release(native: object): void {
  retained.delete(native);
}

/** Native objects still waiting for their close (for tests and metrics). */
export function retainedCount(): number {
  return retained.size;
}
