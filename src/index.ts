// squeezenet-wasm: the portable library entry (no Node built-ins, no eval, no file system).

export { SqueezeNet, MAX_ACTIVATION_BYTES, MAX_THREADS, SPARSE_DENSITY, type ProfileRow, type LoadOptions, type RunOptions, type LayerOutput, type ConvMethod } from './model.js';
export {
  ARCHS,
  ARCH_NAMES,
  conv,
  maxpool,
  fire,
  avgpool,
  metaArch,
  fireSizes,
  withClasses,
  withPooling,
  classCount,
  describeArch,
  V1_0_METAPARAMETERS,
  type Arch,
  type ArchName,
  type LayerSpec,
  type Metaparameters,
} from './arch.js';
export { sweepDesign, designPoint, designSvg, range, type DesignPoint } from './design.js';
export { plan, expectedWeights, poolOutSize, convOutSize, type Plan, type Row, type ConvOp, type Shape3 } from './plan.js';
export { type Tensor, type WeightMap } from './weights.js';
export { instantiate, simdSupported, relaxedSimdSupported, WASM_FILES, type WasmSource, type Kernels, type SimdFlavor } from './wasm.js';
export { SqueezeNetError, WasmError, WeightError, FormatError, InputError, DisposedError, WorkerError } from './errors.js';
export { formatSummary } from './summary.js';
export { loadDefault, DEFAULT_MODEL_FILE, type LoadDefaultOptions } from './default.js';
export { halfToFloat, type DecodedTensor, type DecodedWeights, type RecipeSource, type FloatDtype } from './formats/common.js';
export { inferRecipe } from './formats/recipe.js';
export { decodeDeepCompression, readDeepCompression, loadDeepCompression, DEEP_COMPRESSION_LAYERS, type DeepCompressionLayer } from './formats/deepcompression.js';
export {
  readSafetensors,
  decodeSafetensors,
  loadSafetensors,
  inferArch,
  archsFitting,
  stripModulePrefix,
  SAFETENSORS_MAX_HEADER,
  type SafetensorsFile,
  type SafetensorsTensor,
  type SafetensorsDtype,
} from './formats/safetensors.js';
export {
  readOnnx,
  onnxTensorValues,
  type OnnxModel,
  type OnnxGraph,
  type OnnxNode,
  type OnnxAttribute,
  type OnnxTensor,
  type OnnxValueInfo,
} from './formats/onnx-read.js';
export { matchOnnx, decodeOnnx, loadOnnx, type OnnxSqueezeNet, type OnnxHead } from './formats/onnx-match.js';
export {
  decodeWeights,
  load,
  detectWeightFormat,
  registerWeightFormat,
  WEIGHT_FORMATS,
  SAFETENSORS_FORMAT,
  ONNX_FORMAT,
  DEEP_COMPRESSION_FORMAT,
  SQZ_WEIGHT_FORMAT,
  type DecodeWeightsOptions,
  type LoadFileOptions,
  type WeightFormat,
} from './formats/detect.js';
export {
  readSqz,
  decodeSqz,
  writeSqz,
  loadSqz,
  isSqz,
  sqzTensors,
  sqzArch,
  sqzWeights,
  sqzArchMetadata,
  layerWeights,
  SQZ_FORMAT,
  SQZ_MAGIC,
  SQZ_VERSION,
  SQZ_VERSIONS,
  SQZ_MAX_WIDTH,
  type SqzFile,
  type SqzLayer,
  type SqzWritten,
} from './formats/sqz.js';
export { compress, DEFAULT_LAMBDA, type CompressOptions, type CompressResult, type CompressedLayer, type PerLayer } from './compress/encoder.js';
export { calibrationStatistics, layerSensitivity, type CalibrationStatistics, type LayerStatistics, type CalibrationOptions } from './compress/calibrate.js';
export { compressCalibrated, type CalibratedOptions, type CalibratedResult } from './compress/calibrated.js';
export {
  preprocess,
  resizeBilinear,
  composite,
  RECIPES,
  DEFAULT_BACKGROUND,
  type Recipe,
  type ImagePixels,
  type RgbImage,
  type Rgb,
  type PreprocessOptions,
} from './preprocess.js';
export { imagenetClasses, imagenetClass, IMAGENET_CLASS_COUNT, type ImageNetClass } from './labels.js';
export { classify, topK, softmax, parseLabels, labelSource, type Prediction, type ClassifyOptions, type TopKOptions } from './classify.js';
export { createOps, Ops, OpError, MAX_OP_BYTES, type OpTensor, type OpResult, type Pads, type Conv2dOptions, type Pool2dOptions, type AvgPool2dOptions, type OpsOptions } from './ops.js';
