/**
 * Where a codec runs. Only the CPU is implemented: the machines this runs on have no GPU yet. The other names are
 * accepted by the type so that configuration can already spell them, and refused at construction with an error that
 * names the device; a later change maps them to FFmpeg hwaccels (AV_HWDEVICE_TYPE_VAAPI / CUDA / QSV).
 */
export type HwDevice = 'auto' | 'cpu' | 'vaapi' | 'cuda' | 'qsv';

/** The device a codec will use for `requested` ('auto' is the CPU until a hardware path exists); throws for the others. */
export function resolveHwDevice(requested: HwDevice | undefined, what: string): 'cpu' {
  if (requested === undefined || requested === 'auto' || requested === 'cpu') return 'cpu';
  throw new Error(`${what}: hardware device '${requested}' is not supported yet (only 'cpu' and 'auto' are)`);
}
