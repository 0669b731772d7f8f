/**
 * The `--preprocess` spec that turns images into model inputs, e.g.
 * `resize=256,crop=224,mean=0.485:0.456:0.406,std=0.229:0.224:0.225,layout=nchw`. Parsed strictly: a
 * typo must not silently calibrate on differently normalized data than the model was trained on.
 */
import { QuantkitError } from '../errors.js';

export interface Size {
  height: number;
  width: number;
}

export type Layout = 'nchw' | 'nhwc';

export interface PreprocessSpec {
  /** `resize=N` scales the shorter side to N (aspect kept); `resize=HxW` scales to exactly H×W. */
  resize?: { shorter: number } | Size;
  /** Center crop; default: the model input's fixed height and width. */
  crop?: Size;
  /** One value for every channel, or one per channel; applied after scaling. Default 0. */
  mean?: number[];
  /** Like mean; default 1. */
  std?: number[];
  /** What a full-intensity pixel (255) becomes before mean/std: 1 (the default) or e.g. 255. */
  scale?: number;
  /** Default: inferred from the model input's shape. */
  layout?: Layout;
}

const KEYS = ['resize', 'crop', 'mean', 'std', 'scale', 'layout'] as const;
type Key = (typeof KEYS)[number];

export function parsePreprocessSpec(text: string): PreprocessSpec {
  const fail = (why: string) => new QuantkitError(`invalid --preprocess '${text}': ${why}`);
  const spec: PreprocessSpec = {};
  const seen = new Set<string>();
  if (text.trim() === '') throw fail(`it is empty; give key=value pairs (${KEYS.join(', ')})`);
  for (const item of text.split(',')) {
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).trim();
    const value = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (!(KEYS as readonly string[]).includes(key)) {
      throw fail(`unknown key '${key}' (known: ${KEYS.join(', ')})`);
    }
    if (eq < 0 || value === '') throw fail(`'${key}' has no value (write ${key}=...)`);
    if (seen.has(key)) throw fail(`'${key}' is given twice`);
    seen.add(key);
    parseEntry(spec, key as Key, value, fail);
  }
  return spec;
}

function parseEntry(spec: PreprocessSpec, key: Key, value: string, fail: (why: string) => Error): void {
  switch (key) {
    case 'resize': {
      const n = positiveInt(value);
      spec.resize = n !== undefined ? { shorter: n } : size(value, key, fail);
      return;
    }
    case 'crop': {
      const n = positiveInt(value);
      spec.crop = n !== undefined ? { height: n, width: n } : size(value, key, fail);
      return;
    }
    case 'mean':
    case 'std': {
      const values = value.split(':').map((v) => (v.trim() === '' ? NaN : Number(v)));
      if (values.some((v) => !Number.isFinite(v))) {
        throw fail(`${key}=${value} is not a number or colon-separated numbers (e.g. 0.485:0.456:0.406)`);
      }
      if (key === 'std' && values.some((v) => v <= 0)) throw fail(`std=${value} must be positive`);
      spec[key] = values;
      return;
    }
    case 'scale': {
      const n = Number(value);
      if (!Number.isFinite(n) || n <= 0) throw fail(`scale=${value} must be a positive number (1 or 255)`);
      spec.scale = n;
      return;
    }
    case 'layout':
      if (value !== 'nchw' && value !== 'nhwc') throw fail(`layout=${value} must be nchw or nhwc`);
      spec.layout = value;
      return;
  }
}

function positiveInt(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

function size(text: string, key: string, fail: (why: string) => Error): Size {
  const m = /^(\d+)x(\d+)$/.exec(text);
  const height = m ? positiveInt(m[1]) : undefined;
  const width = m ? positiveInt(m[2]) : undefined;
  if (height === undefined || width === undefined) {
    throw fail(`${key}=${text} must be a positive integer or HxW (e.g. ${key}=224 or ${key}=224x320)`);
  }
  return { height, width };
}
