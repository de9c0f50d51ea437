/**
 * @roamhq/wrtc crashes in native teardown when a process that handled video exits on its own, and an unstopped sink
 * keeps it alive. Test files that run wrtc in-process close everything in `after()` and then call this.
 */
export function exitWhenDone(): void {
  setTimeout(() => process.exit(), 100).unref();
}
