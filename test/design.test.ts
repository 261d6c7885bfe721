// Section 5 (metaparameters) and Section 6 (bypass) counts against the paper's figures.
import { describe, expect, it } from 'vitest';
import { ARCHS, designSvg, fireSizes, metaArch, plan, sweepDesign, V1_0_METAPARAMETERS } from '../src/index.js';

const params = (sr: number, pct3x3: number): number => plan(metaArch({ ...V1_0_METAPARAMETERS, sr, pct3x3 })).params;

describe('metaparameters', () => {
  it('the default point is v1.0: same Fire sizes as Table 1', () => {
    const table1 = ARCHS['v1.0'].layers.flatMap((l) => (l.kind === 'fire' ? [{ s1x1: l.s1x1, e1x1: l.e1x1, e3x3: l.e3x3 }] : []));
    expect(fireSizes()).toEqual(table1);
    expect(params(0.125, 0.5)).toBe(1_248_424);
  });

  it('reproduces the SR sweep counts: 4,841,704 at 0.75 and 6,279,016 at 1.0', () => {
    expect(params(0.75, 0.5)).toBe(4_841_704);
    expect(params(1.0, 0.5)).toBe(6_279_016);
  });

  it('reproduces the pct3x3 sweep counts at SR 0.5: 1,473,128 / 3,404,392 / 5,325,416', () => {
    expect(params(0.5, 0.01)).toBe(1_473_128);
    expect(params(0.5, 0.5)).toBe(3_404_392);
    expect(params(0.5, 0.99)).toBe(5_325_416);
  });

  it('rejects metaparameters that leave a Fire module without filters', () => {
    expect(() => fireSizes({ ...V1_0_METAPARAMETERS, sr: 0.001 })).toThrow(/fire2 s1x1=0/);
  });

  it('sweeps both axes and draws one line per sweep, one point per design', () => {
    const points = sweepDesign({ srs: [0.125, 0.25, 0.5, 0.75, 1], pcts: [0.01, 0.5, 0.99] });
    expect(points.map((p) => p.params)).toEqual([
      1_248_424, params(0.25, 0.5), params(0.5, 0.5), 4_841_704, 6_279_016, 1_473_128, 3_404_392, 5_325_416,
    ]);
    const svg = designSvg(points);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(points.length);
    expect(svg).toContain('4,841,704 parameters');
  });
});

describe('bypass variants', () => {
  it('simple bypass adds no parameters; complex adds 341,248 (1,589,672 in all)', () => {
    expect(plan(ARCHS['simple-bypass']).params).toBe(1_248_424);
    const complex = plan(ARCHS['complex-bypass']);
    expect(complex.params).toBe(1_589_672);
    expect(complex.convs.filter((c) => c.name.endsWith('.bypass')).map((c) => `${c.param} ${c.inC}->${c.outC}`)).toEqual([
      'features.3.bypass 96->128',
      'features.5.bypass 128->256',
      'features.8.bypass 256->384',
      'features.10.bypass 384->512',
    ]);
  });

  it('simple bypass sits where channel counts agree', () => {
    const fires = ARCHS['simple-bypass'].layers.filter((l) => l.kind === 'fire' && l.bypass === 'simple').map((l) => l.name);
    expect(fires).toEqual(['fire3', 'fire5', 'fire7', 'fire9']);
  });
});
