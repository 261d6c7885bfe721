// node classify.mjs photo.jpg
import { classifyFile } from 'squeezenet-wasm-cli';

// No model given: the one that ships with the library. The photo is decoded as PIL decodes it
// (sharp), upright by its EXIF orientation, transparency over white.
for (const p of await classifyFile(undefined, process.argv[2])) console.log(`${(100 * p.prob).toFixed(1)}%  ${p.label}`);
