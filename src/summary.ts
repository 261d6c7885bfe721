// Table 1 as text, from a plan.

import type { Plan, Row } from './plan.js';

const group = (n: number): string => n.toLocaleString('en-US');

function kernelText(row: Row): string {
  const s = row.spec;
  switch (s.kind) {
    case 'conv':
      return `${s.kernel}x${s.kernel} / ${s.stride}${s.pad > 0 ? ` pad ${s.pad}` : ''}, ${s.out} filters`;
    case 'maxpool':
      return `${s.size}x${s.size} / ${s.stride}${s.ceil ? ' ceil' : ''}${s.padEnd ? ` end pads ${s.padEnd.join('x')}` : ''}`;
    case 'avgpool':
      return `global average`;
    case 'fire':
      return s.bypass === 'simple' ? 'bypass: + input' : s.bypass === 'complex' ? 'bypass: + 1x1 conv of input' : '';
  }
}

/** Table 1 for a plan: layer, output HxWxC, kernel/stride, s1x1, e1x1, e3x3, parameters, MACs. */
export function formatSummary(p: Plan): string {
  const header = ['layer', 'output (HxWxC)', 'kernel / stride', 's1x1', 'e1x1', 'e3x3', 'parameters', 'MACs'];
  const shape = (s: readonly number[]): string => `${s[1]}x${s[2]}x${s[0]}`;
  const rows: string[][] = [['input', shape(p.input), '', '', '', '', '', '']];
  for (const r of p.rows) {
    const f = r.spec.kind === 'fire' ? r.spec : undefined;
    rows.push([
      r.spec.name,
      shape(r.output),
      kernelText(r),
      f ? String(f.s1x1) : '',
      f ? String(f.e1x1) : '',
      f ? String(f.e3x3) : '',
      group(r.params),
      group(r.macs),
    ]);
  }
  rows.push(['total', '', '', '', '', '', group(p.params), group(p.macs)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = new Set([3, 4, 5, 6, 7]);
  const line = (cells: string[]): string =>
    cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const mib = (bits: number): string => `${((p.params * bits) / 8 / 2 ** 20).toFixed(2)} MiB`;
  return [
    `${p.arch.name}: ${p.arch.description}`,
    `input ${p.input[1]}x${p.input[2]}x3`,
    '',
    line(header),
    rule,
    ...rows.slice(0, -1).map(line),
    rule,
    line(rows.at(-1)!),
    '',
    `${group(p.params)} parameters, ${group(p.macs)} convolution MACs (${(p.macs / 1e9).toFixed(3)} GMAC)`,
    `model size, dense: ${mib(32)} at 32 bits, ${mib(8)} at 8 bits, ${mib(6)} at 6 bits (1 MiB = 2^20 bytes; codebooks and sparse indices not counted)`,
  ].join('\n');
}
