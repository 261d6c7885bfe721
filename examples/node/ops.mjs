// node ops.mjs: one layer at a time on NCHW tensors { data, shape }, with the engine's own kernels.
import { createOps } from 'squeezenet-wasm';

const ops = await createOps(); // { wasm } as for SqueezeNet.load
const values = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) / 2);
const x = { data: values(3 * 17 * 9 * 11), shape: [3, 17, 9, 11] }; // NCHW: a batch of 3
const w = { data: values(64 * 17 * 3 * 3), shape: [64, 17, 3, 3] }; // [outC, inC, k, k]
const b = { data: values(64), shape: [64] };
const y = ops.conv2d(x, w, b, { stride: 2, pads: [1, 0, 1, 0], relu: true }); // pads: [top, left, bottom, right]
const p = ops.maxPool2d(x, { kernel: 3, stride: 2, pads: [0, 0, 1, 1], ceil: true });
const a = ops.avgPool2d(x, { kernel: 3, stride: 2, pads: [1, 1, 1, 1], ceil: true, countIncludePad: false });
const g = ops.globalAvgPool2d(ops.relu(x)); // [N, C, 1, 1]
const c = ops.concat([p, a], 1); // torch.cat / ONNX Concat
for (const [name, t] of Object.entries({ y, p, a, g, c })) console.log(`${name}: ${t.shape.join('x')}`); // each { data, shape }
