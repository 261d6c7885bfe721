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
export const fire = (name: string, s1x1: number, e1x1: number, e3x3: number): FireSpec =>
  ({ kind: 'fire', name, s1x1, e1x1, e3x3 });
export const avgpool = (name: string): AvgPoolSpec => ({ kind: 'avgpool', name });

export type ArchName = 'v1.0' | 'v1.0-caffe' | 'v1.1';

const v1_0_body = (conv10Pad: number): LayerSpec[] => [
  conv('conv1', 96, 7, 2),
  maxpool('maxpool1', 3, 2, 'ceil'),
  fire('fire2', 16, 64, 64),
  fire('fire3', 16, 64, 64),
  fire('fire4', 32, 128, 128),
  maxpool('maxpool4', 3, 2, 'ceil'),
  fire('fire5', 32, 128, 128),
  fire('fire6', 48, 192, 192),
  fire('fire7', 48, 192, 192),
  fire('fire8', 64, 256, 256),
  maxpool('maxpool8', 3, 2, 'ceil'),
  fire('fire9', 64, 256, 256),
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
