// Which preprocessing a weight file expects, and why. A SqueezeNet trained in Caffe (the released
// v1.0, its Deep Compression weights, the model zoo's Caffe2 conversions) wants Caffe's input:
// BGR, 0..255 minus the means, 227x227; fed torchvision's normalised RGB it still answers, wrongly
// (the Deep Compression weights fall from 64/100 to 2/100 top-1). So the recipe comes from the
// file's own word when it has one, else from evidence of Caffe training, and only then from a
// default that is reported as a guess.

import { isCaffeForm, type Arch, type ArchName, ARCHS } from '../arch.js';
import { RECIPES, type Recipe } from '../preprocess.js';
import type { RecipeSource } from './common.js';

/** The metadata key (.sqz metadata, safetensors `__metadata__`, ONNX `metadata_props`) naming the recipe. */
export const RECIPE_KEY = 'recipe';

const isRecipe = (v: string | undefined): v is Recipe => v !== undefined && Object.hasOwn(RECIPES, v);

/**
 * The recipe for weights of `arch`: the file's metadata value when it names one (`caffe` or
 * `torchvision`); else `caffe` when the network is v1.0 in its Caffe form (conv10 padded by 1)
 * or `evidence` gives other reasons (each a phrase: "the producer is caffe2"); else
 * `torchvision`, marked `default` (a guess). `notes` tells about metadata that was ignored or
 * that contradicts the evidence.
 */
export function inferRecipe(
  arch: ArchName | Arch,
  metadata: string | undefined,
  evidence: readonly string[] = [],
): { recipe: Recipe; recipeSource: RecipeSource; notes: string[] } {
  const table = typeof arch === 'string' ? ARCHS[arch] : arch;
  const reasons = [...(isCaffeForm(table) ? [`the network is v1.0 in its Caffe form (conv10 padding 1, as the released Caffe model)`] : []), ...evidence];
  const notes: string[] = [];
  if (isRecipe(metadata)) {
    if (metadata === 'torchvision' && reasons.length > 0) {
      notes.push(`the file's metadata says recipe ${metadata}, though ${reasons.join('; ')}: the metadata wins`);
    }
    return { recipe: metadata, recipeSource: { kind: 'metadata', reason: `the file's metadata says ${RECIPE_KEY}=${metadata}` }, notes };
  }
  if (metadata !== undefined) {
    notes.push(`the file's metadata ${RECIPE_KEY}=${JSON.stringify(metadata.slice(0, 40))} is not one of ${Object.keys(RECIPES).join(', ')}: ignored`);
  }
  if (reasons.length > 0) return { recipe: 'caffe', recipeSource: { kind: 'architecture', reason: reasons.join('; ') }, notes };
  return {
    recipe: 'torchvision',
    recipeSource: { kind: 'default', reason: 'the file names no recipe and nothing in it points to Caffe training: torchvision assumed' },
    notes,
  };
}
