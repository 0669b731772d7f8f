/**
 * Validation of external-data locations. A model file is untrusted input: a location that is absolute
 * or climbs out of the model's folder ('../../etc/passwd') would let a model read arbitrary files, a
 * known attack on model loaders. This lexical check runs everywhere; the Node loader also resolves
 * symbolic links before opening anything.
 */
import { QuantkitError } from '../errors.js';

/** The location as a normalized relative path ('a/b.bin'), or a QuantkitError naming model and tensor. */
export function checkExternalLocation(location: string, model: string, tensor: string): string {
  const refuse = (why: string) =>
    new QuantkitError(
      `${model}: tensor '${tensor}' stores its data at '${location}', ${why}. quantkit only reads ` +
        "external data from files inside the model's folder; move the data file next to the model.",
    );
  if (location === '') throw refuse('an empty path');
  if (location.includes('\0')) throw refuse('a path containing a NUL byte');
  if (/^([/\\]|[A-Za-z]:)/.test(location)) throw refuse('an absolute path');
  const parts: string[] = [];
  for (const part of location.split(/[/\\]+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw refuse("a path outside the model's folder");
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  if (parts.length === 0) throw refuse('a path naming the folder itself');
  return parts.join('/');
}
