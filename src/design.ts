// Section 5's design space: parameters, size and MACs over sweeps of the metaparameters.

import { metaArch, V1_0_METAPARAMETERS, type Metaparameters } from './arch.js';
import { plan } from './plan.js';

export interface DesignPoint {
  readonly sweep: 'SR' | 'pct3x3';
  readonly meta: Metaparameters;
  readonly params: number;
  /** Bytes at 32 bits per parameter. */
  readonly bytes: number;
  readonly macs: number;
}

/** Inclusive range with a step, robust to float steps (0.125 steps land exactly on 1.0). */
export function range(from: number, to: number, step: number): number[] {
  if (!(step > 0) || !(to >= from)) throw new RangeError(`bad range ${from}:${to}:${step}: need from <= to and step > 0`);
  const n = Math.floor((to - from) / step + 1e-9);
  return Array.from({ length: n + 1 }, (_, i) => Number((from + i * step).toFixed(10)));
}

export function designPoint(sweep: DesignPoint['sweep'], meta: Metaparameters, input = 224): DesignPoint {
  const p = plan(metaArch(meta), input);
  return { sweep, meta, params: p.params, bytes: p.params * 4, macs: p.macs };
}

/** The paper's two sweeps: SR at pct3x3 0.5, and pct3x3 at SR `srForPct`. */
export function sweepDesign(opts: {
  srs: readonly number[];
  pcts: readonly number[];
  srForPct?: number;
  base?: Partial<Metaparameters>;
  input?: number;
}): DesignPoint[] {
  const base = { ...V1_0_METAPARAMETERS, ...opts.base };
  return [
    ...opts.srs.map((sr) => designPoint('SR', { ...base, sr, pct3x3: 0.5 }, opts.input)),
    ...opts.pcts.map((pct3x3) => designPoint('pct3x3', { ...base, sr: opts.srForPct ?? 0.5, pct3x3 }, opts.input)),
  ];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Size (MiB at 32 bits) against GMACs, one line per sweep, as a self-contained SVG. */
export function designSvg(points: readonly DesignPoint[], title = 'SqueezeNet design space (Section 5)'): string {
  const W = 720;
  const H = 480;
  const m = { l: 70, r: 170, t: 40, b: 60 };
  const xs = points.map((p) => p.macs / 1e9);
  const ys = points.map((p) => p.bytes / 2 ** 20);
  const nice = (v: number): number => {
    const e = 10 ** Math.floor(Math.log10(v));
    return Math.ceil(v / e) * e;
  };
  const xMax = nice(Math.max(...xs) * 1.05);
  const yMax = nice(Math.max(...ys) * 1.05);
  const X = (v: number): number => m.l + (v / xMax) * (W - m.l - m.r);
  const Y = (v: number): number => H - m.b - (v / yMax) * (H - m.t - m.b);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.r / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const xv = (xMax * i) / 5;
    const yv = (yMax * i) / 5;
    out.push(
      `<line x1="${X(xv)}" y1="${Y(0)}" x2="${X(xv)}" y2="${Y(yMax)}" stroke="#eee"/>`,
      `<text x="${X(xv)}" y="${H - m.b + 18}" text-anchor="middle">${+xv.toFixed(3)}</text>`,
      `<line x1="${X(0)}" y1="${Y(yv)}" x2="${X(xMax)}" y2="${Y(yv)}" stroke="#eee"/>`,
      `<text x="${m.l - 8}" y="${Y(yv) + 4}" text-anchor="end">${+yv.toFixed(2)}</text>`,
    );
  }
  out.push(
    `<line x1="${X(0)}" y1="${Y(0)}" x2="${X(xMax)}" y2="${Y(0)}" stroke="black"/>`,
    `<line x1="${X(0)}" y1="${Y(0)}" x2="${X(0)}" y2="${Y(yMax)}" stroke="black"/>`,
    `<text x="${(X(0) + X(xMax)) / 2}" y="${H - 15}" text-anchor="middle">GMAC per image (convolutions)</text>`,
    `<text transform="translate(18 ${(Y(0) + Y(yMax)) / 2}) rotate(-90)" text-anchor="middle">model size, MiB at 32 bits</text>`,
  );
  const colours: Record<DesignPoint['sweep'], string> = { SR: '#1f77b4', pct3x3: '#d62728' };
  let legendY = m.t + 10;
  for (const sweep of ['SR', 'pct3x3'] as const) {
    const pts = points.filter((p) => p.sweep === sweep);
    if (pts.length === 0) continue;
    const col = colours[sweep];
    const path = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${X(p.macs / 1e9).toFixed(1)},${Y(p.bytes / 2 ** 20).toFixed(1)}`).join(' ');
    out.push(`<path d="${path}" fill="none" stroke="${col}" stroke-width="2"/>`);
    for (const p of pts) {
      const v = sweep === 'SR' ? p.meta.sr : p.meta.pct3x3;
      const cx = X(p.macs / 1e9).toFixed(1);
      const cy = Y(p.bytes / 2 ** 20).toFixed(1);
      out.push(
        `<circle cx="${cx}" cy="${cy}" r="3.5" fill="${col}"><title>${sweep} ${v}: ${p.params.toLocaleString('en-US')} parameters, ${(p.macs / 1e9).toFixed(3)} GMAC</title></circle>`,
        `<text x="${cx}" y="${Number(cy) + (sweep === 'SR' ? -7 : 14)}" text-anchor="${sweep === 'SR' ? 'end' : 'start'}" font-size="9" fill="${col}">${v}</text>`,
      );
    }
    const fixed = sweep === 'SR' ? 'pct3x3 = 0.5' : `SR = ${pts[0]!.meta.sr}`;
    out.push(
      `<line x1="${W - m.r + 15}" y1="${legendY}" x2="${W - m.r + 40}" y2="${legendY}" stroke="${col}" stroke-width="2"/>`,
      `<text x="${W - m.r + 45}" y="${legendY + 4}">${sweep} sweep</text>`,
      `<text x="${W - m.r + 45}" y="${legendY + 18}" fill="#555">(${fixed})</text>`,
    );
    legendY += 40;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
