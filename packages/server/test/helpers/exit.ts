/**
 * @roamhq/wrtc crashes in native teardown when a process that handled video exits on its own (its RTCVideoSource
 * finalizer runs during environment cleanup), and an unstopped sink keeps it alive. Test files that run wrtc
 * in-process close everything in `after()` and then call this: the process exits explicitly, either 100 ms later or
 * as soon as its event loop empties, whichever comes first — never through natural teardown.
 */
export function exitWhenDone(): void {
  process.once('beforeExit', (code) => process.exit(code));
  setTimeout(() => process.exit(), 100).unref();
}
