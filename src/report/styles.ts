/**
 * The report's stylesheet, inlined into the page: system fonts, no external files, and print rules
 * that show every table row and keep chart colours.
 */
import { COLORS } from './colors.js';

export const STYLES = `
*{box-sizing:border-box;-webkit-print-color-adjust:exact;print-color-adjust:exact}
html{background:#fff;color:${COLORS.text}}
body{margin:0 auto;max-width:1000px;padding:28px 32px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans",sans-serif}
header{border-bottom:2px solid ${COLORS.text};padding-bottom:10px;margin-bottom:8px}
h1{font-size:24px;margin:0;overflow-wrap:anywhere}
.subtitle{color:${COLORS.muted};margin-top:2px}
nav.toc{font-size:13px;margin:10px 0 0;color:${COLORS.muted}}
nav.toc a{color:${COLORS.bar};text-decoration:none;margin-right:14px;white-space:nowrap}
section{margin-top:30px}
h2{font-size:18px;margin:0 0 10px;padding-bottom:4px;border-bottom:1px solid ${COLORS.grid};overflow-wrap:anywhere}
table{border-collapse:collapse;min-width:60%;font-size:13px;font-variant-numeric:tabular-nums}
th{text-align:left;font-weight:600;background:#f3f4f6;position:sticky;top:0}
th,td{padding:4px 10px;border-bottom:1px solid ${COLORS.grid};vertical-align:top;overflow-wrap:break-word}
td.num,th.num{text-align:right}
td.num{white-space:nowrap}
tr.hl td{background:#fdecec}
table.summary td:first-child{font-weight:600;white-space:nowrap}
table.summary td.before,table.summary td.after{white-space:nowrap}
table.summary td.after{font-weight:600}
.scroll table{width:100%}
.wide{overflow-x:auto}
.scroll{max-height:460px;overflow:auto;border:1px solid ${COLORS.grid};border-radius:4px;margin-top:8px}
.caption{color:${COLORS.muted};font-size:13px;margin:6px 0 0}
.empty{color:${COLORS.muted};font-style:italic}
svg.chart{display:block;max-width:100%;height:auto}
svg text{fill:${COLORS.text};font-size:11px}
svg text.tick{fill:${COLORS.muted};font-size:10px}
svg text.value{font-variant-numeric:tabular-nums}
svg text.bad{fill:${COLORS.highlight};font-weight:600}
.hists{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:14px}
figure.hist{margin:0;padding:8px;border:1px solid ${COLORS.grid};border-radius:6px;break-inside:avoid}
figure.hist .name{font-weight:600;font-size:13px;overflow-wrap:anywhere;margin-top:2px}
figure.hist .legend,figure.hist .caption{color:${COLORS.muted};font-size:12px;margin:0}
ul.notes{margin:0;padding-left:20px}
ul.notes li{margin:2px 0;overflow-wrap:anywhere}
@media print{
body{max-width:none;padding:0;font-size:12px}
nav.toc{display:none}
.scroll,.wide{max-height:none;overflow:visible;border:0}
th{position:static}
h2{break-after:avoid}
tr,svg.chart{break-inside:avoid}
}
`;
