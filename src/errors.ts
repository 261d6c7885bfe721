/** Base class of every error this library throws on purpose. */
export class SqueezeNetError extends Error {
  override name = 'SqueezeNetError';
}

/** The WebAssembly module could not be compiled or instantiated, or SIMD is missing. */
export class WasmError extends SqueezeNetError {
  override name = 'WasmError';
}

/** A weight tensor is missing, unexpected, or has the wrong shape. `tensor` names it. */
export class WeightError extends SqueezeNetError {
  override name = 'WeightError';
  constructor(message: string, readonly tensor: string) {
    super(`${tensor}: ${message}`);
  }
}

/** A weight file is malformed. `layer` and `offset` (bytes from the start) say where. */
export class FormatError extends SqueezeNetError {
  override name = 'FormatError';
  constructor(
    message: string,
    readonly format: string,
    readonly offset: number,
    readonly layer?: string,
  ) {
    super(`${format}${layer === undefined ? '' : ` layer ${layer}`} at byte ${offset}: ${message}`);
  }
}

/** An input tensor or image does not fit what the network or the function expects. */
export class InputError extends SqueezeNetError {
  override name = 'InputError';
}

/** The model was used after `dispose()`. */
export class DisposedError extends SqueezeNetError {
  override name = 'DisposedError';
}

/**
 * A worker thread stopped (it crashed, ran out of memory or was terminated) while it held jobs,
 * or none is left to run them. `threadId` and `exitCode` say which and how.
 */
export class WorkerError extends SqueezeNetError {
  override name = 'WorkerError';
  constructor(
    message: string,
    readonly threadId: number,
    readonly exitCode?: number,
  ) {
    super(message);
  }
}
