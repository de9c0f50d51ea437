/** One SSD anchor: centre in normalised input coordinates; BlazeFace uses fixed anchor size 1x1. */
export interface Anchor {
  cx: number;
  cy: number;
}

/**
 * BlazeFace anchors in the order the model's outputs use: a 16x16 grid with 2 anchors per cell, then an 8x8 grid
 * with 6 per cell (896 in all), row-major, anchors of a cell consecutive. Same for the 128 and 256 models.
 */
export function blazeFaceAnchors(): Anchor[] {
  const anchors: Anchor[] = [];
  for (const [grid, perCell] of [
    [16, 2],
    [8, 6],
  ] as const) {
    for (let y = 0; y < grid; y++) {
      for (let x = 0; x < grid; x++) {
        for (let k = 0; k < perCell; k++) anchors.push({ cx: (x + 0.5) / grid, cy: (y + 0.5) / grid });
      }
    }
  }
  return anchors;
}
