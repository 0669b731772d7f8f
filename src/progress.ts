/**
 * How long-running library calls (calibration, evaluation, latency runs) report progress. The core
 * only calls the callback; drawing a bar is the CLI's business (src/cli/progress.ts), and a web page
 * can draw its own.
 */
export interface ProgressEvent {
  /** What is being done, e.g. 'evaluate' or 'latency'; a new stage starts a new bar. */
  stage: string;
  /** Units done so far in this stage (samples, runs, ...). */
  done: number;
  /** Units the stage will do, when known in advance. */
  total?: number;
  /** A short status shown beside the count, e.g. training's running loss and accuracy. */
  detail?: string;
}

export type ProgressCallback = (e: ProgressEvent) => void;
