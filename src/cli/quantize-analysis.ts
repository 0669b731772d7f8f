/**
 * What `quantize --report` adds to the quantize report: the mixed-precision plan and sensitivity
 * ranking when they ran, and — for static quantization — the per-layer error analysis of the result
 * on the first calibration samples, with histograms of the worst layers and their clipping ranges.
 */
import { debugQuantized } from '../analysis/debug.js';
import { debugSections } from '../analysis/report-debug.js';
import { mixedPrecisionSections } from '../analysis/report-sensitivity.js';
import { requiredInputs } from '../data/model-inputs.js';
import { openSampleSource } from '../data/sample-source.js';
import { isQuantkitError } from '../errors.js';
import type { Model } from '../onnx/model.js';
import type { QuantizeReport, QuantizeRequest } from '../pipeline/quantize.js';
import type { ReportDocument } from '../report/document.js';

/** Samples the per-layer analysis runs on. */
const ANALYSIS_SAMPLES = 256;

export async function addAnalysis(
  doc: ReportDocument,
  original: Model,
  quantized: Model,
  report: QuantizeReport,
  request: QuantizeRequest,
): Promise<void> {
  const extra = report.mixedPrecision ? mixedPrecisionSections(report.mixedPrecision) : [];
  const data = request.calibration;
  if (report.options.mode === 'static' && typeof data === 'string' && request.tokenizer === undefined) {
    try {
      const source = await openSampleSource(data, requiredInputs(original.graph), {
        preprocess: request.preprocess,
        limit: ANALYSIS_SAMPLES,
      });
      const result = await debugQuantized(original, quantized, source.batches(source.fixedBatchSize ?? 32));
      extra.push(...debugSections(result));
    } catch (e) {
      if (!isQuantkitError(e)) throw e;
      extra.push({ kind: 'notes', title: 'Per-layer error', items: [`not analysed: ${e.message}`] });
    }
  }
  const notes = doc.sections.findIndex((s) => s.kind === 'notes');
  doc.sections.splice(notes < 0 ? doc.sections.length : notes, 0, ...extra);
}
