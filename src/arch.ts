// The networks as data, one entry per row of the paper's Table 1. Shapes, parameter and MAC
// counts, torchvision's state_dict names and the engine's plan are all derived from these tables.

export interface ConvSpec {
  readonly kind: 'conv';
  readonly name: string;
  readonly out: number;
  readonly kernel: number;
  readonly stride: number;
  readonly pad: number;
}
export interface MaxPoolSpec {
  readonly kind: 'maxpool';
  readonly name: string;
  readonly size: number;
  readonly stride: number;
  /** Round the output size up (Caffe, PyTorch `ceil_mode=True`) or down. */
  readonly ceil: boolean;
}
export interface FireSpec {
  readonly kind: 'fire';
  readonly name: string;
  readonly s1x1: number;
  readonly e1x1: number;
  readonly e3x3: number;
  /**
   * Section 6's bypass around the module: `simple` adds the module's input to its output;
   * `complex` adds the input through a 1x1 convolution (with bias, no ReLU) to as many channels as
   * the output has. Either way the sum comes after the expand ReLUs and is not rectified again,
   * as in the authors' SqueezeNet-Residual release.
   */
  readonly bypass?: 'simple' | 'complex';
}
export interface AvgPoolSpec {
  readonly kind: 'avgpool';
  readonly name: string;
}
export type LayerSpec = ConvSpec | MaxPoolSpec | FireSpec | AvgPoolSpec;

export interface Arch {
  readonly name: ArchName;
  readonly description: string;
  /** Default input height and width. */
  readonly input: number;
  readonly layers: readonly LayerSpec[];
}

export const conv = (name: string, out: number, kernel: number, stride = 1, pad = 0): ConvSpec =>
  ({ kind: 'conv', name, out, kernel, stride, pad });
export const maxpool = (name: string, size: number, stride: number, rounding: 'ceil' | 'floor'): MaxPoolSpec =>
  ({ kind: 'maxpool', name, size, stride, ceil: rounding === 'ceil' });
export const fire = (name: string, s1x1: number, e1x1: number, e3x3: number, bypass?: 'simple' | 'complex'): FireSpec =>
  bypass === undefined ? { kind: 'fire', name, s1x1, e1x1, e3x3 } : { kind: 'fire', name, s1x1, e1x1, e3x3, bypass };
export const avgpool = (name: string): AvgPoolSpec => ({ kind: 'avgpool', name });

export type ArchName = 'v1.0' | 'v1.0-caffe' | 'v1.1' | 'simple-bypass' | 'complex-bypass';

type Bypass = 'simple' | 'complex' | undefined;

// `odd` bypasses fire3, 5, 7, 9 (channels agree); `even` fire2, 4, 6, 8 (through a 1x1 conv).
const v1_0_body = (conv10Pad: number, odd?: Bypass, even?: Bypass): LayerSpec[] => [
  conv('conv1', 96, 7, 2),
  maxpool('maxpool1', 3, 2, 'ceil'),
  fire('fire2', 16, 64, 64, even),
  fire('fire3', 16, 64, 64, odd),
  fire('fire4', 32, 128, 128, even),
  maxpool('maxpool4', 3, 2, 'ceil'),
  fire('fire5', 32, 128, 128, odd),
  fire('fire6', 48, 192, 192, even),
  fire('fire7', 48, 192, 192, odd),
  fire('fire8', 64, 256, 256, even),
  maxpool('maxpool8', 3, 2, 'ceil'),
  fire('fire9', 64, 256, 256, odd),
  conv('conv10', 1000, 1, 1, conv10Pad),
  avgpool('avgpool10'),
];

export const ARCHS: Readonly<Record<ArchName, Arch>> = {
  'v1.0': {
    name: 'v1.0',
    description: "SqueezeNet v1.0 as torchvision's squeezenet1_0 (conv10 padding 0, input 224)",
    input: 224,
    layers: v1_0_body(0),
  },
  'v1.0-caffe': {
    name: 'v1.0-caffe',
    description: 'SqueezeNet v1.0 as the released Caffe model (conv10 padding 1, input 227)',
    input: 227,
    layers: v1_0_body(1),
  },
  'simple-bypass': {
    name: 'simple-bypass',
    description: 'SqueezeNet v1.0 (torchvision layout, input 224) with simple bypass around fire3, 5, 7, 9',
    input: 224,
    layers: v1_0_body(0, 'simple'),
  },
  'complex-bypass': {
    name: 'complex-bypass',
    description:
      'SqueezeNet v1.0 (torchvision layout, input 224) with simple bypass around fire3, 5, 7, 9 and 1x1-conv bypass around fire2, 4, 6, 8',
    input: 224,
    layers: v1_0_body(0, 'simple', 'complex'),
  },
  'v1.1': {
    name: 'v1.1',
    description: "SqueezeNet v1.1 as torchvision's squeezenet1_1 (input 224)",
    input: 224,
    layers: [
      conv('conv1', 64, 3, 2),
      maxpool('maxpool1', 3, 2, 'ceil'),
      fire('fire2', 16, 64, 64),
      fire('fire3', 16, 64, 64),
      maxpool('maxpool3', 3, 2, 'ceil'),
      fire('fire4', 32, 128, 128),
      fire('fire5', 32, 128, 128),
      maxpool('maxpool5', 3, 2, 'ceil'),
      fire('fire6', 48, 192, 192),
      fire('fire7', 48, 192, 192),
      fire('fire8', 64, 256, 256),
      fire('fire9', 64, 256, 256),
      conv('conv10', 1000, 1, 1, 0),
      avgpool('avgpool10'),
    ],
  },
};

export const ARCH_NAMES = Object.keys(ARCHS) as ArchName[];

/** Section 5's metaparameters. v1.0 is the default point. */
export interface Metaparameters {
  /** Expand filters of the first Fire module. */
  readonly baseE: number;
  /** Expand filters added every `freq` Fire modules. */
  readonly incrE: number;
  readonly freq: number;
  /** Share of expand filters that are 3x3. */
  readonly pct3x3: number;
  /** Squeeze ratio: squeeze filters per expand filter. */
  readonly sr: number;
}

export const V1_0_METAPARAMETERS: Metaparameters = { baseE: 128, incrE: 128, freq: 2, pct3x3: 0.5, sr: 0.125 };

/**
 * Fire module i (0..7 for fire2..fire9): e_i = base_e + incr_e * floor(i / freq),
 * e3x3 = floor(e_i * pct3x3), e1x1 = e_i - e3x3, s1x1 = floor(SR * e_i). Flooring reproduces the
 * paper's parameter counts (e.g. 1,473,128 at SR 0.5, pct3x3 0.01).
 */
export function fireSizes(m: Metaparameters = V1_0_METAPARAMETERS): { s1x1: number; e1x1: number; e3x3: number }[] {
  const out = [];
  for (let i = 0; i < 8; i++) {
    const e = m.baseE + m.incrE * Math.floor(i / m.freq);
    const e3x3 = Math.floor(e * m.pct3x3 + 1e-9);
    const s1x1 = Math.floor(m.sr * e + 1e-9);
    if (e3x3 < 1 || e - e3x3 < 1 || s1x1 < 1) {
      throw new RangeError(
        `metaparameters give fire${i + 2} s1x1=${s1x1}, e1x1=${e - e3x3}, e3x3=${e3x3}: every filter count must be at least 1`,
      );
    }
    out.push({ s1x1, e1x1: e - e3x3, e3x3 });
  }
  return out;
}

/** The v1.0 layout (conv1, pools after conv1, fire4, fire8; conv10) with Fire sizes from metaparameters. */
export function metaArch(m: Metaparameters, conv10Pad = 0): Arch {
  const f = fireSizes(m);
  const layers = v1_0_body(conv10Pad).map((l) => {
    if (l.kind !== 'fire') return l;
    const i = Number(l.name.slice(4)) - 2;
    return fire(l.name, f[i]!.s1x1, f[i]!.e1x1, f[i]!.e3x3);
  });
  return {
    name: 'v1.0',
    description: `SqueezeNet v1.0 layout with base_e=${m.baseE}, incr_e=${m.incrE}, freq=${m.freq}, pct3x3=${m.pct3x3}, SR=${m.sr}`,
    input: 224,
    layers,
  };
}
