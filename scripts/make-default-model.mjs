#!/usr/bin/env node
// Writes models/squeezenet1_0-deep-compression.sqz: the Deep Compression SqueezeNet v1.0 re-encoded
// losslessly (the .net's own 8-bit codebooks and every code kept, Huffman-coded codes and gaps,
// float32 codebooks and biases). Refuses to write unless every one of the 1,248,424 decoded
// weights and biases is bit for bit the .net's.
//
//   npm run build && node scripts/make-default-model.mjs [path/to/compressed_SqueezeNet.net]
//
// The input defaults to $SQUEEZENET_SHARED or ../shared beside the project.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { decodeWeights, compress, decodeSqz } = await import(join(ROOT, 'dist/src/index.js'));

const SHARED = process.env.SQUEEZENET_SHARED ?? join(ROOT, '..', 'shared');
const input = process.argv[2] ?? join(SHARED, 'models/squeezenet1_0-deep-compression/compressed_SqueezeNet.net');
const output = join(ROOT, 'models/squeezenet1_0-deep-compression.sqz');

let netBytes;
try {
  netBytes = readFileSync(input);
} catch (e) {
  console.error(`make-default-model: cannot read ${input} (${e.message}); pass the .net's path or set SQUEEZENET_SHARED`);
  process.exit(1);
}
const net = decodeWeights(netBytes);
if (net.format !== 'deepcompression') throw new Error(`${input} is ${net.format}, not the Deep Compression .net`);

// The lossless settings: linear k-means at 8 bits finds each layer's <= 255 shared values exactly.
const result = compress(net.weights, {
  arch: net.arch,
  kmeans: 'linear',
  bits: 8,
  rounding: 'nearest',
  codebookF16: false,
  biasF16: false,
  huffman: true,
  density: 1,
  gapBits: 'auto',
});

const decoded = decodeSqz(result.bytes).weights;
let compared = 0;
for (const [name, want] of net.weights) {
  const got = decoded.get(name);
  if (got === undefined) throw new Error(`${name} is missing from the re-encoding`);
  const a = new Uint32Array(want.data.buffer, want.data.byteOffset, want.data.length);
  const b = new Uint32Array(got.data.buffer, got.data.byteOffset, got.data.length);
  if (a.length !== b.length) throw new Error(`${name}: ${b.length} values, the .net has ${a.length}`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) throw new Error(`${name}[${i}]: ${got.data[i]} where the .net has ${want.data[i]}: not lossless`);
  }
  compared += a.length;
}
if (decoded.size !== net.weights.size) throw new Error(`the re-encoding has ${decoded.size} tensors, the .net ${net.weights.size}`);
writeFileSync(output, result.bytes);
console.log(`${output}: ${result.bytes.length.toLocaleString('en-US')} bytes (the .net: ${netBytes.length.toLocaleString('en-US')}); ${compared.toLocaleString('en-US')} parameters bit-identical`);
