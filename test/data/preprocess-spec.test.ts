import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePreprocessSpec } from '../../src/data/preprocess-spec.js';

test('a full spec parses into sizes, per-channel numbers and a layout', () => {
  assert.deepEqual(
    parsePreprocessSpec('resize=256,crop=224,mean=0.485:0.456:0.406,std=0.229:0.224:0.225,layout=nchw'),
    {
      resize: { shorter: 256 },
      crop: { height: 224, width: 224 },
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      layout: 'nchw',
    },
  );
  assert.deepEqual(parsePreprocessSpec(' resize = 32x48 , crop=16x24,scale=255,mean=-1e-3 '), {
    resize: { height: 32, width: 48 },
    crop: { height: 16, width: 24 },
    scale: 255,
    mean: [-0.001],
  });
});

test('unknown keys and malformed values are refused, quoting the spec', () => {
  const cases: Array<[string, string]> = [
    ['', 'it is empty; give key=value pairs (resize, crop, mean, std, scale, layout)'],
    ['size=224', "unknown key 'size' (known: resize, crop, mean, std, scale, layout)"],
    ['resize=224,', "unknown key '' (known: resize, crop, mean, std, scale, layout)"],
    ['crop', "'crop' has no value (write crop=...)"],
    ['crop=', "'crop' has no value (write crop=...)"],
    ['resize=0', 'resize=0 must be a positive integer or HxW (e.g. resize=224 or resize=224x320)'],
    ['crop=22.5', 'crop=22.5 must be a positive integer or HxW (e.g. crop=224 or crop=224x320)'],
    ['crop=224x', 'crop=224x must be a positive integer or HxW (e.g. crop=224 or crop=224x320)'],
    ['mean=0.5:abc', 'mean=0.5:abc is not a number or colon-separated numbers (e.g. 0.485:0.456:0.406)'],
    ['mean=0.5::0.5', 'mean=0.5::0.5 is not a number or colon-separated numbers (e.g. 0.485:0.456:0.406)'],
    ['std=0.2:0', 'std=0.2:0 must be positive'],
    ['scale=-1', 'scale=-1 must be a positive number (1 or 255)'],
    ['layout=chw', 'layout=chw must be nchw or nhwc'],
    ['crop=2,crop=3', "'crop' is given twice"],
  ];
  for (const [spec, why] of cases) {
    assert.throws(() => parsePreprocessSpec(spec), {
      name: 'QuantkitError',
      message: `invalid --preprocess '${spec}': ${why}`,
    });
  }
});
