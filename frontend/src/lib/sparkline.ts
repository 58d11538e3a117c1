// Geometry for the tiny SVG sparkline: a polyline and a closed area.

export interface SparkGeometry {
  line: string;
  area: string;
  max: number;
  last: number;
}

export function sparkline(values: readonly number[], width: number, height: number, pad = 1): SparkGeometry {
  const vs = values.filter((v) => Number.isFinite(v)).map((v) => Math.max(0, v));
  if (vs.length === 0) return { line: '', area: '', max: 0, last: 0 };
  const max = Math.max(...vs);
  const top = pad;
  const bottom = height - pad;
  const span = bottom - top;
  const step = vs.length > 1 ? width / (vs.length - 1) : 0;
  const pts = vs.map((v, i) => {
    const x = vs.length > 1 ? i * step : width / 2;
    const y = max > 0 ? bottom - (v / max) * span : bottom;
    return `${round(x)},${round(y)}`;
  });
  if (vs.length === 1) pts.unshift(`0,${pts[0]!.split(',')[1]}`);
  const line = pts.join(' ');
  const first = pts[0]!.split(',')[0];
  const lastX = pts[pts.length - 1]!.split(',')[0];
  const area = `${first},${round(bottom)} ${line} ${lastX},${round(bottom)}`;
  return { line, area, max, last: vs[vs.length - 1]! };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
