// Parameter and MAC counts derived from the Arch tables against the paper's Table 1.
import { describe, expect, it } from 'vitest';
import { ARCHS, plan } from '../src/index.js';

describe('Table 1 counts', () => {
  it('v1.0 per-layer parameters equal Table 1', () => {
    const table1: Record<string, number> = {
      conv1: 14_208, maxpool1: 0, fire2: 11_920, fire3: 12_432, fire4: 45_344, maxpool4: 0, fire5: 49_440,
      fire6: 104_880, fire7: 111_024, fire8: 188_992, maxpool8: 0, fire9: 197_184, conv10: 513_000, avgpool10: 0,
    };
    for (const arch of [ARCHS['v1.0'], ARCHS['v1.0-caffe']]) {
      const p = plan(arch);
      expect(Object.fromEntries(p.rows.map((r) => [r.spec.name, r.params]))).toEqual(table1);
      expect(p.params).toBe(1_248_424);
    }
  });

  it('v1.0-caffe output shapes at 227 are Table 1 (conv10 15x15 from its pad 1)', () => {
    const p = plan(ARCHS['v1.0-caffe'], 227);
    const shapes = Object.fromEntries(p.rows.map((r) => [r.spec.name, r.output.join('x')]));
    expect(shapes).toMatchObject({
      conv1: '96x111x111', maxpool1: '96x55x55', fire2: '128x55x55', fire3: '128x55x55', fire4: '256x55x55',
      maxpool4: '256x27x27', fire5: '256x27x27', fire6: '384x27x27', fire7: '384x27x27', fire8: '512x27x27',
      maxpool8: '512x13x13', fire9: '512x13x13', conv10: '1000x15x15', avgpool10: '1000x1x1',
    });
    const fire2 = p.rows.find((r) => r.spec.name === 'fire2')!;
    expect(fire2.convs.map((c) => `${c.name} ${c.outC}x${c.outH}x${c.outW}`)).toEqual([
      'fire2.squeeze 16x55x55', 'fire2.expand1x1 64x55x55', 'fire2.expand3x3 64x55x55',
    ]);
  });

  it('torchvision v1.0 at 224: conv1 gives 109x109, conv10 13x13', () => {
    const p = plan(ARCHS['v1.0'], 224);
    expect(p.rows[0]!.output).toEqual([96, 109, 109]);
    expect(p.rows.at(-2)!.output).toEqual([1000, 13, 13]);
  });

  it('v1.1 has 1,235,496 parameters', () => {
    expect(plan(ARCHS['v1.1']).params).toBe(1_235_496);
  });

  it('convolution MACs: 861,339,936 for v1.0-caffe at 227, 349,151,936 for v1.1 at 224', () => {
    expect(plan(ARCHS['v1.0-caffe'], 227).macs).toBe(861_339_936);
    expect(plan(ARCHS['v1.1'], 224).macs).toBe(349_151_936);
  });

  it('state_dict names follow torchvision', () => {
    const names = plan(ARCHS['v1.0']).convs.map((c) => c.param);
    expect(names.slice(0, 5)).toEqual(['features.0', 'features.3.squeeze', 'features.3.expand1x1', 'features.3.expand3x3', 'features.4.squeeze']);
    expect(names).toContain('features.12.expand3x3');
    expect(names.at(-1)).toBe('classifier.1');
    const v11 = plan(ARCHS['v1.1']).convs.map((c) => c.param);
    expect(v11).toContain('features.6.squeeze');
    expect(v11).toContain('features.12.expand3x3');
  });

  it('rejects inputs too small for the network with a message naming the layer', () => {
    expect(() => plan(ARCHS['v1.0'], 15)).toThrow(/too small for v1.0: maxpool/);
    expect(() => plan(ARCHS['v1.0'], 0)).toThrow(/positive integers/);
  });
});
