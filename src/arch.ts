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
  /** Round the output size up (Caffe, PyTorch `ceil_mode=True`) or down (`ceil_mode=False`). */
  readonly ceil: boolean;
  /**
   * Explicit padding after the last row and column ([bottom, right], ONNX `pads` end values;
   * default none), which never wins a max. torch's exports before opset 10 spell a ceil-mode pool
   * this way, for the exported input size only; an ONNX graph is run as it spells its pools.
   */
  readonly padEnd?: readonly [number, number];
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
  /**
   * A fixed window (an ONNX AveragePool whose kernel is the final map of the exported size):
   * the network then runs only at input sizes whose final map is exactly this, where the window
   * is the global average. Default: the global average at any size.
   */
  readonly window?: readonly [number, number];
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

/** The classifier: the last convolution (conv10), whose filters are the classes. */
export function classifierSpec(arch: Arch): ConvSpec {
  const last = [...arch.layers].reverse().find((l): l is ConvSpec => l.kind === 'conv');
  if (last === undefined) throw new RangeError(`${arch.name} has no convolution`);
  return last;
}

/** How many classes the network scores: conv10's filters (1000 for ImageNet). */
export const classCount = (arch: Arch): number => classifierSpec(arch).out;

/** The Caffe form of v1.0 (conv10 padded by 1, as the released Caffe model): trained with Caffe's preprocessing. */
export const isCaffeForm = (arch: Arch): boolean => classifierSpec(arch).pad === 1;

/**
 * The network with conv10 replaced for `classes` outputs (N >= 1), as torchvision's
 * `squeezenet1_1(num_classes=N)` and every fine-tuned SqueezeNet have it. Same name, a
 * description that says so; the arch itself when it already has N.
 */
export function withClasses(arch: Arch, classes: number): Arch {
  if (!Number.isSafeInteger(classes) || classes < 1) throw new RangeError(`classes must be a positive integer, got ${classes}`);
  const c = classifierSpec(arch);
  if (c.out === classes) return arch;
  return {
    ...arch,
    description: `${arch.description}, conv10 for ${classes} class${classes === 1 ? '' : 'es'}`,
    layers: arch.layers.map((l) => (l === c ? { ...c, out: classes } : l)),
  };
}

/**
 * The network with every max pool rounding `rounding`: `'floor'` is torchvision's
 * `ceil_mode=False` (and ONNX's default), `'ceil'` Caffe's and torchvision's SqueezeNet default.
 */
export function withPooling(arch: Arch, rounding: 'ceil' | 'floor'): Arch {
  const ceil = rounding === 'ceil';
  if (arch.layers.every((l) => l.kind !== 'maxpool' || (l.ceil === ceil && l.padEnd === undefined))) return arch;
  return {
    ...arch,
    description: `${arch.description}, max pools rounding ${rounding === 'floor' ? 'down (ceil_mode=False)' : 'up'}`,
    layers: arch.layers.map((l) => (l.kind === 'maxpool' ? maxpool(l.name, l.size, l.stride, rounding) : l)),
  };
}

/** How a max pool rounds, in words: `ceil`, `floor`, `floor + end pads 1x1`. */
export function poolRounding(p: MaxPoolSpec): string {
  return `${p.ceil ? 'ceil' : 'floor'}${p.padEnd ? ` + end pads ${p.padEnd[0]}x${p.padEnd[1]}` : ''}`;
}

const sameLayer = (a: LayerSpec, b: LayerSpec): boolean => {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => JSON.stringify((a as unknown as Record<string, unknown>)[k]) === JSON.stringify((b as unknown as Record<string, unknown>)[k]));
};

/** True when two tables describe the same network, layer for layer (names and descriptions aside). */
export function sameNetwork(a: Arch, b: Arch): boolean {
  return a.layers.length === b.layers.length && a.layers.every((l, i) => sameLayer(l, b.layers[i]!));
}

/** The arch's name when it is exactly that built-in network, else the table itself. */
export function archOrName(arch: Arch): ArchName | Arch {
  const named = ARCHS[arch.name];
  return named !== undefined && sameNetwork(named, arch) ? arch.name : arch;
}

/**
 * The network in a few words: its name, then how it differs from the built-in network of that
 * name (classes, pool rounding, a fixed final window): `v1.1`, `v1.1 (10 classes)`,
 * `v1.1 (10 classes; max pools floor)`.
 */
export function describeArch(arch: ArchName | Arch): string {
  const a = typeof arch === 'string' ? ARCHS[arch] : arch;
  if (a === undefined) return String(arch);
  const base = ARCHS[a.name];
  if (base === undefined || sameNetwork(base, a)) return a.name;
  const parts: string[] = [];
  const classes = classCount(a);
  if (classes !== classCount(base)) parts.push(`${classes} class${classes === 1 ? '' : 'es'}`);
  const pools = a.layers.filter((l): l is MaxPoolSpec => l.kind === 'maxpool');
  const basePools = base.layers.filter((l): l is MaxPoolSpec => l.kind === 'maxpool');
  if (pools.some((p, i) => poolRounding(p) !== poolRounding(basePools[i]!))) {
    const kinds = new Set(pools.map(poolRounding));
    parts.push(kinds.size === 1 ? `max pools ${[...kinds][0]}` : `max pools ${pools.map((p) => `${p.name} ${poolRounding(p)}`).join(', ')}`);
  }
  const avg = a.layers.find((l): l is AvgPoolSpec => l.kind === 'avgpool');
  if (avg?.window) parts.push(`average over a fixed ${avg.window[0]}x${avg.window[1]} window`);
  if (a.layers.length !== base.layers.length || parts.length === 0) parts.push('layers changed');
  return `${a.name} (${parts.join('; ')})`;
}

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
