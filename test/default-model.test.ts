// The model that ships in the package (models/squeezenet1_0-deep-compression.sqz, written by
// scripts/make-default-model.mjs) is the Deep Compression .net from ../shared without losing a bit.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDeepCompression, decodeSqz, loadDeepCompression, loadDefault, preprocess, type SqueezeNet } from '../src/index.js';
import { decodeImage } from '../cli/src/images.js';
import { IMAGES, MODEL, ROOT, shared } from './shared.js';

const SQZ = join(ROOT, 'models', 'squeezenet1_0-deep-compression.sqz');

const bitsOf = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('the default model', () => {
  it('decodes to the .net\'s 1,248,424 parameters, every one bit-identical', () => {
    const sqz = decodeSqz(readFileSync(SQZ)).weights;
    const net = decodeDeepCompression(readFileSync(shared(MODEL))).weights;
    expect([...sqz.keys()].sort()).toEqual([...net.keys()].sort());
    let count = 0;
    let differing = 0;
    for (const [name, want] of net) {
      const got = sqz.get(name)!;
      expect(got.shape, name).toEqual(want.shape);
      const a = bitsOf(want.data);
      const b = bitsOf(got.data);
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
      count += a.length;
    }
    console.log(`default model: ${readFileSync(SQZ).length.toLocaleString('en-US')} bytes; ${count.toLocaleString('en-US')} parameters compared, ${differing} differ`);
    expect(count).toBe(1_248_424);
    expect(differing).toBe(0);
  });

  describe('logits on the 100 sample images', () => {
    let fromSqz: SqueezeNet;
    let fromNet: SqueezeNet;
    beforeAll(async () => {
      fromSqz = await loadDefault();
      fromNet = await loadDeepCompression(readFileSync(shared(MODEL)));
    });
    afterAll(() => {
      fromSqz?.dispose();
      fromNet?.dispose();
    });

    it('are bit-identical to the .net\'s (loadDefault reads the file from the package)', async () => {
      const files = readdirSync(shared(IMAGES)).filter((f) => /\.jpe?g$/i.test(f)).sort();
      expect(files.length).toBe(100);
      let identical = 0;
      for (const f of files) {
        const input = preprocess(await decodeImage(join(shared(IMAGES), f)), 'caffe');
        const a = bitsOf(fromNet.run(input));
        const b = bitsOf(fromSqz.run(input));
        if (a.length === 1000 && a.every((v, i) => v === b[i])) identical++;
      }
      console.log(`logits bit-identical on ${identical}/${files.length} images`);
      expect(identical).toBe(100);
    });
  });
});
