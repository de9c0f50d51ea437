/** Encoder settings of a recording. */
export interface RecordingEncoding {
  /** libx264 preset: 'ultrafast' costs least CPU, 'veryfast' gives smaller files. */
  x264Preset: string;
  /** AAC bitrate in bits per second; null when there is no audio track. */
  audioBitrate: number | null;
}

/** A keyframe (so a new MP4 fragment) at least every this many seconds: what a crash can lose at most. */
export const KEYFRAME_INTERVAL_S = 2;

/**
 * ffmpeg's arguments for one recording: Matroska on stdin (raw I420 video and s16le PCM with millisecond timestamps,
 * see matroska-writer.ts) → H.264 + AAC in fragmented MP4 at `mediaPath`. Frames keep their timestamps (variable frame
 * rate); `delay_moov` lets the MP4 carry the edit list that keeps audio and video in sync despite encoder delay.
 */
export function recordingArgs(mediaPath: string, enc: RecordingEncoding): string[] {
  return [
    ...['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'warning'],
    ...['-f', 'matroska', '-i', 'pipe:0', '-map', '0:v?', '-map', '0:a?'],
    ...['-c:v', 'libx264', '-preset', enc.x264Preset, '-crf', '23', '-pix_fmt', 'yuv420p'],
    ...['-force_key_frames', `expr:gte(t,n_forced*${KEYFRAME_INTERVAL_S})`, '-fps_mode', 'passthrough'],
    ...(enc.audioBitrate === null ? [] : ['-c:a', 'aac', '-b:a', String(enc.audioBitrate)]),
    ...['-movflags', '+frag_keyframe+empty_moov+delay_moov+default_base_moof', '-flush_packets', '1', '-f', 'mp4', '-y', mediaPath],
  ];
}
