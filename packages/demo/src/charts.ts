/** A tiny time-series chart on a canvas: a few named lines over the last `windowS` seconds. No dependencies. */
export class LineChart {
  readonly #series: Array<{ name: string; color: string; points: Array<[number, number]> }>;

  constructor(
    readonly canvas: HTMLCanvasElement,
    series: Array<{ name: string; color: string }>,
    readonly unit: string,
    readonly windowS = 60,
  ) {
    this.#series = series.map((s) => ({ ...s, points: [] }));
  }

  push(t: number, values: Array<number | undefined>): void {
    values.forEach((v, i) => {
      const s = this.#series[i];
      if (!s || v === undefined || !Number.isFinite(v)) return;
      s.points.push([t, v]);
      while (s.points.length > 0 && s.points[0]![0] < t - this.windowS * 1000) s.points.shift();
    });
    this.draw(t);
  }

  draw(t: number): void {
    const dpr = globalThis.devicePixelRatio || 1;
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (this.canvas.width !== Math.round(w * dpr)) this.canvas.width = Math.round(w * dpr);
    if (this.canvas.height !== Math.round(h * dpr)) this.canvas.height = Math.round(h * dpr);
    const g = this.canvas.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const max = Math.max(1, ...this.#series.flatMap((s) => s.points.map((p) => p[1]))) * 1.15;
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#8b949e';
    g.fillText(`${max.toFixed(0)} ${this.unit}`, 4, 12);
    let lx = 70;
    for (const s of this.#series) {
      g.fillStyle = s.color;
      g.fillText(s.name, lx, 12);
      lx += g.measureText(s.name).width + 12;
      g.strokeStyle = s.color;
      g.lineWidth = 1.5;
      g.beginPath();
      s.points.forEach(([pt, v], i) => {
        const x = w - ((t - pt) / (this.windowS * 1000)) * w;
        const y = h - 4 - (v / max) * (h - 20);
        if (i === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      });
      g.stroke();
    }
  }
}
