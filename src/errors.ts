/**
 * An error caused by the user's input (a model, data file or option), as opposed to a bug in quantkit.
 * The CLI prints its message as one line and exits with code 1; anything else is reported as an
 * internal error. Messages name the file, node or tensor at fault and say what to do.
 */
export class QuantkitError extends Error {
  override readonly name = 'QuantkitError';
}

export function isQuantkitError(e: unknown): e is QuantkitError {
  return e instanceof QuantkitError;
}
