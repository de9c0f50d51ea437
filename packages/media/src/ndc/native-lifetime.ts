import nodeDataChannel from 'node-datachannel';

/**
 * Lifetimes of node-datachannel's native objects, for every user of it in the process (the server's peers and the
 * Node client's publishers alike).
 *
 * - node-datachannel crashes (in its C++ destructors, at `cleanup()` or exit) when a DataChannel or Track object is
 *   garbage-collected before its `onClosed` has fired. Every one is retained here from creation until that callback,
 *   whatever became of the peer that owned it.
 * - It keeps the process alive until `cleanup()` once a connection has carried anything, even with every connection
 *   closed. So peers are counted: when the last one closes (and the tracks and channels have seen their close, or 2 s
 *   passed), `cleanup()` runs, its threads stop, and Node can exit by itself. The next PeerConnection starts it again
 *   (measured: a cleanup takes 6–11 ms, and sessions after it connect as before).
 */
const retained = new Set<object>();
const CLOSE_WAIT_MS = 2000;
let openPeers = 0;
let cleanupTimer: NodeJS.Timeout | undefined;

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

/** PeerConnections open in this process (for tests and metrics). */
export function openPeerCount(): number {
  return openPeers;
}

/** Call when a PeerConnection is created. */
export function peerOpened(): void {
  openPeers++;
  clearTimeout(cleanupTimer);
  cleanupTimer = undefined;
}

/** Call once when a PeerConnection is closed; the last one out schedules node-datachannel's cleanup. */
export function peerClosed(): void {
  openPeers = Math.max(0, openPeers - 1);
  if (openPeers === 0) scheduleCleanup(Date.now() + CLOSE_WAIT_MS);
}

function scheduleCleanup(deadline: number): void {
  clearTimeout(cleanupTimer);
  cleanupTimer = setTimeout(() => {
    cleanupTimer = undefined;
    if (openPeers > 0) return;
    if (retained.size > 0 && Date.now() < deadline) return scheduleCleanup(deadline);
    nodeDataChannel.cleanup();
  }, 20);
  // The timer itself never keeps the process alive: node-datachannel does, until the timer has run.
  cleanupTimer.unref();
}
