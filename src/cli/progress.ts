/**
 * Progress bars for long commands: counts and ETA on stderr when a person is watching (stderr is a
 * terminal, no --quiet, not CI), nothing at all otherwise, so piped and logged output stays clean.
 * The library reports through an `onProgress` callback; this adapts it, one bar per stage.
 */
import { SingleBar } from 'cli-progress';
import type { ProgressCallback, ProgressEvent } from '../progress.js';

export interface ProgressBarOptions {
  quiet?: boolean;
  stream?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

export interface ProgressBar {
  /** Pass to a library call's `onProgress`. */
  readonly onProgress: ProgressCallback;
  /** Removes the bar; call before printing results (and on errors). */
  stop(): void;
}

export function createProgressBar(opts: ProgressBarOptions = {}): ProgressBar {
  const stream = opts.stream ?? process.stderr;
  const env = opts.env ?? process.env;
  if (opts.quiet || !stream.isTTY || env.CI) return { onProgress: () => {}, stop: () => {} };

  let bar: SingleBar | undefined;
  let stage: string | undefined;
  const stop = () => {
    bar?.stop();
    bar = undefined;
    stage = undefined;
  };
  const onProgress = (e: ProgressEvent) => {
    if (e.stage !== stage) {
      stop();
      stage = e.stage;
      bar = new SingleBar({
        stream,
        format:
          (e.total === undefined
            ? `${e.stage} {value} | {duration_formatted}`
            : `${e.stage} [{bar}] {value}/{total} | ETA {eta_formatted}`) +
          (e.detail === undefined ? '' : ' | {detail}'),
        clearOnComplete: true,
        hideCursor: null,
        gracefulExit: true,
      });
      bar.start(e.total ?? 0, e.done, { detail: e.detail ?? '' });
      return;
    }
    if (e.total !== undefined && e.total !== bar!.getTotal()) bar!.setTotal(e.total);
    bar!.update(e.done, { detail: e.detail ?? '' });
  };
  return { onProgress, stop };
}
