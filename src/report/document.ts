/** A report as data: built by quantize/debug/sensitivity, rendered to HTML by renderHtmlReport, printed as JSON as is. */
export interface ReportDocument {
  title: string;
  /** e.g. 'quantkit 0.1.0 · 2026-11-23 14:02' */
  subtitle?: string;
  sections: ReportSection[];
}
export type ReportSection =
  | {
      kind: 'summary';
      title: string;
      rows: { label: string; before?: string; after?: string; note?: string }[];
    }
  /** Number cells are formatted and right-aligned; give numbers, not strings, for numeric columns. */
  | {
      kind: 'table';
      title: string;
      columns: string[];
      rows: (string | number)[][];
      caption?: string;
      highlightRows?: number[];
    }
  /** Drawn worst first (NaN counts as worst), the 40 worst charted; a table lists all when more, or noted. */
  | {
      kind: 'bars';
      title: string;
      unit: string;
      items: { label: string; value: number; highlight?: boolean; note?: string }[];
      caption?: string;
      /** lower is worse, e.g. SQNR */
      lowerIsWorse?: boolean;
    }
  /** counts: equal-width bins over [min, max], drawn on a log scale; clip: the range kept, drawn on it. */
  | {
      kind: 'histograms';
      title: string;
      items: {
        label: string;
        counts: number[];
        min: number;
        max: number;
        clip?: [number, number];
        caption?: string;
      }[];
      caption?: string;
    }
  | { kind: 'notes'; title: string; items: string[] };
