/** Inline CSS: the page is one file that opens offline, so nothing may be linked. */
export const STYLES = `
:root { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1f23; background: #f7f7f9; }
body { margin: 0 auto; max-width: 1200px; padding: 16px 24px 64px; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; } h4 { margin: 14px 0 6px; }
.muted { color: #6b7280; } code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: #fff; border: 1px solid #e5e7eb; padding: 8px; overflow: auto; max-height: 320px; }
.heatmap { border-collapse: separate; border-spacing: 6px; }
.heatmap th { text-align: left; padding: 4px 8px; }
.hm { width: 230px; border-radius: 6px; padding: 0; }
.hm a { display: block; padding: 10px 12px; color: inherit; text-decoration: none; }
.hm span { display: block; font-size: 12px; } .hm .kind { opacity: .75; }
.hm.pass { background: #d1fadf; border: 1px solid #32d583; } .hm.fail { background: #fee4e2; border: 1px solid #f04438; }
.hm.notrun { background: #eaecf0; color: #667085; padding: 10px 12px; }
.cell { background: #fff; border: 1px solid #e5e7eb; border-left: 6px solid #32d583; border-radius: 6px; margin: 10px 0; padding: 8px 14px; }
.cell.fail { border-left-color: #f04438; }
.cell > details > summary { cursor: pointer; font-size: 15px; padding: 4px 0; }
.badge { display: inline-block; border-radius: 4px; padding: 1px 8px; font-weight: 600; font-size: 12px; }
.badge.pass { background: #d1fadf; color: #05603a; } .badge.fail { background: #fee4e2; color: #912018; }
.cause { font-weight: 600; } .diagnosis { background: #fffaeb; border: 1px solid #fedf89; border-radius: 6px; padding: 6px 10px; }
.doctor .check.fail td { background: #fef3f2; } .doctor .check.warn td { background: #fffaeb; }
.doctor .check .st { font-size: 12px; text-transform: uppercase; white-space: nowrap; } .doctor .check.skipped { color: #667085; }
.doctor pre.sql { margin: 4px 0; max-height: none; } .doctor td > code { white-space: nowrap; } .doctor .next { margin-top: 3px; }
/* Fixed layout: column widths come from the cols, not from the longest line in a cell. In auto layout
   a long SQL or JSON line in a <pre> set the finding column's minimum width, which pushed the table
   past the page's right edge and squeezed the status column. The widths fit "NOT CHECKED" in 12px
   capitals and the longest check id (publication.column_list) in 12px monospace, each on one line. */
.doctor table.checks { table-layout: fixed; }
.doctor col.st { width: 7.5rem; } .doctor col.id { width: 14rem; }
/* SQL to copy wraps inside its block, whole; a catalog value too long for the column scrolls in its own. */
.doctor pre.sql { white-space: pre-wrap; overflow-wrap: anywhere; }
.cols { display: flex; gap: 24px; flex-wrap: wrap; } .cols > div { flex: 1 1 420px; min-width: 0; }
.ladder { list-style: none; padding: 0; margin: 8px 0; }
.stage { border-left: 4px solid #d0d5dd; padding: 3px 8px; margin: 3px 0; background: #fcfcfd; }
.stage.passed { border-color: #32d583; } .stage.failed { border-color: #f04438; background: #fef3f2; }
.stage.not_reached { color: #98a2b3; } .stage .n { display: inline-block; width: 1.4em; color: #667085; }
.stage .st { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
.grid, .facts { border-collapse: collapse; width: 100%; margin: 6px 0; }
.grid th, .grid td, .facts th, .facts td { border: 1px solid #e5e7eb; padding: 3px 6px; text-align: left; vertical-align: top; word-break: break-word; }
.facts th { width: 120px; background: #f9fafb; } .frames tr.sent td { background: #f5f8ff; }
.frames td:nth-child(-n+5), .frames th { white-space: nowrap; }
.chart .bar { fill: #7a9cf0; } .chart .bar.over { fill: #f04438; } .chart .budget { stroke: #d92d20; stroke-width: 2; }
.chart .pct { stroke: #475467; stroke-dasharray: 4 3; } .chart .axis { font-size: 10px; fill: #475467; } .chart .axisline { stroke: #98a2b3; }
`;
