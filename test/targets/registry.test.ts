import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveOptions } from '../../src/pipeline/resolve.js';
import { resolveTarget } from '../../src/targets/registry.js';

const AVX2 = { arch: 'x64', flags: ['avx2'] };
const VNNI = { arch: 'x64', flags: ['avx2', 'avx512f', 'avx512_vnni'] };
const ARM = { arch: 'arm64', flags: ['asimddp'] };

describe('target resolution', () => {
  it('auto and ort-cpu pick the CPU variant of the machine, the safe one when unsure', () => {
    assert.equal(resolveTarget('auto', AVX2).profile.name, 'ort-cpu:avx2');
    assert.equal(resolveTarget('auto', VNNI).profile.name, 'ort-cpu:vnni');
    assert.equal(
      resolveTarget('ort-cpu', { arch: 'x64', flags: ['avx2', 'avx_vnni'] }).profile.name,
      'ort-cpu:vnni',
    );
    assert.equal(resolveTarget('auto', ARM).profile.name, 'ort-cpu:arm64');
    assert.equal(resolveTarget('auto', { arch: 'x64', flags: [] }).profile.name, 'ort-cpu:avx2');
    assert.equal(resolveTarget('ort-cpu:vnni', AVX2).profile.name, 'ort-cpu:vnni', 'a forced variant wins');
    assert.throws(() => resolveTarget('cuda', AVX2), /unknown target 'cuda'/);
  });

  it('profiles set the defaults; overrides known to be slow or lossy are warned about', () => {
    const avx2 = resolveOptions({}, { hasCalibration: true, host: AVX2 });
    assert.equal(avx2.reduceRange, true);
    assert.equal(avx2.activationType, 'uint8');
    assert.deepEqual(avx2.warnings, []);
    const vnni = resolveOptions({}, { hasCalibration: true, host: VNNI });
    assert.equal(vnni.reduceRange, false);
    const int8 = resolveOptions({ activationType: 'int8' }, { hasCalibration: true, host: VNNI });
    assert.match(int8.warnings.join('\n'), /int8 activations.*not fuse/);
    const fullRange = resolveOptions({ reduceRange: false }, { hasCalibration: true, host: AVX2 });
    assert.match(fullRange.warnings.join('\n'), /saturate/);
    const trt = resolveOptions({ target: 'tensorrt' }, { hasCalibration: true, host: AVX2 });
    assert.equal(trt.activationType, 'int8');
    assert.equal(trt.symmetricActivations, true);
    assert.equal(trt.profile.dedicatedPairs, true);
    assert.throws(
      () => resolveOptions({ target: 'tensorrt', format: 'qoperator' }, { hasCalibration: true, host: AVX2 }),
      /QDQ models only/,
    );
    assert.throws(
      () => resolveOptions({ target: 'tensorrt' }, { hasCalibration: false, host: AVX2 }),
      /dynamic/,
    );
  });
});
