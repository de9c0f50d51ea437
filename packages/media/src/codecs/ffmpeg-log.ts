/**
 * FFmpeg and the libraries under it log to stderr at info level by default: libx264 prints its statistics when an
 * encoder closes, SVT-AV1 a banner when one opens. Importing this module lowers that to errors, once per process.
 * The level is process-wide, so a caller that wants more (debugging) can raise it again with `Log.setLevel` after.
 */
import { Log } from 'node-av/lib';
import { AV_LOG_ERROR } from 'node-av/constants';

let done = false;

export function quietFfmpegLogs(): void {
  if (done) return;
  done = true;
  Log.setLevel(AV_LOG_ERROR);
  // SVT-AV1 logs through its own printf, not av_log; it reads SVT_LOG when an encoder opens (1 = errors only).
  process.env.SVT_LOG ??= '1';
}

quietFfmpegLogs();
