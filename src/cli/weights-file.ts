// Weight files to torchvision-named tensors and the network they belong to, by content: what
// `compress` reads. (.sqz by its magic, else the Deep Compression .net, whose layout is checked.)

import type { ArchName } from '../arch.js';
import { decodeDeepCompression, type DecodedTensor } from '../formats/deepcompression.js';
import { isSqz, readSqz, sqzTensors } from '../formats/sqz.js';

export interface WeightsFile {
  readonly format: string;
  /** The network, when the file says (a .sqz names it; the .net is always v1.0-caffe). */
  readonly arch: ArchName | undefined;
  readonly weights: Map<string, DecodedTensor>;
}

export async function readWeightsFile(bytes: Uint8Array, _name: string): Promise<WeightsFile> {
  if (isSqz(bytes)) {
    const file = readSqz(bytes);
    return { format: '.sqz', arch: file.arch as ArchName, weights: sqzTensors(file) };
  }
  return { format: 'Deep Compression .net', arch: 'v1.0-caffe', weights: decodeDeepCompression(bytes) };
}
