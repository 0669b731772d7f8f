/** Writes a report as one self-contained HTML file, all or nothing (see atomic-write.ts). */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeFsError } from '../data/fs-errors.js';
import { QuantkitError } from '../errors.js';
import type { ReportDocument } from '../report/document.js';
import { renderHtmlReport } from '../report/html.js';
import { writeFilesAtomically } from './atomic-write.js';

const HINT = '(give --report a path in an existing, writable folder)';

/** Fails before a long run rather than after it when the report could not be written. */
export function checkReportPath(path: string): void {
  let folder;
  try {
    folder = statSync(dirname(path));
  } catch (e) {
    throw new QuantkitError(`cannot write the report ${path}: ${describeFsError(e)} ${HINT}`);
  }
  if (!folder.isDirectory()) throw new QuantkitError(`cannot write the report ${path}: not a folder ${HINT}`);
}

export function writeHtmlReport(doc: ReportDocument, path: string): void {
  const bytes = new TextEncoder().encode(renderHtmlReport(doc));
  try {
    writeFilesAtomically([{ path, pieces: [bytes] }]);
  } catch (e) {
    throw new QuantkitError(`cannot write the report ${path}: ${describeFsError(e)} ${HINT}`);
  }
}
