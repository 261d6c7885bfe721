// squeezenet-wasm-cli as a library, for Node: the command line's image pipeline (decode with
// sharp, EXIF orientation, the transparency rule, the model's recipe) in one call, and its parts.

export { classifyFile, loadDefaultModel, parseBackground, type ClassifyFileOptions } from './api.js';
export {
  decodeImage,
  checkImageFile,
  cmykToRgb,
  IMAGE_EXTENSIONS,
  MAX_IMAGE_FILE_BYTES,
  DECODE_TIMEOUT_SECONDS,
  type DecodedImage,
  type DecodeOptions,
  type ExifMode,
  type ImageInput,
} from './images.js';
export {
  ImageDecodeError,
  MAX_MEGAPIXELS,
  MAX_JPEG_SCANS,
  MAX_JPEG_PIXELS_PER_BYTE,
  readImageHeader,
  readJpegInfo,
  sniffFormat,
  exifOrientation,
  type ImageFormat,
  type ImageHeader,
  type JpegInfo,
} from './image-header.js';
export { loadModel, weightsLocation, CliError, type CliModel, type WeightsLocation } from './load.js';
