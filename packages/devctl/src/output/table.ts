// The one table renderer of devctl: left-aligned columns sized to their widest cell, measured on the
// visible text (colour codes do not count), two spaces apart.
import { c, colorsEnabled } from './colors';

export interface Column<Row> {
  header: string;
  cell: (row: Row) => string;
  /** Right-align (numbers). */
  right?: boolean;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC
const ANSI = /\u001b\[[0-9;]*m/g;

export function visibleWidth(text: string): number {
  return text.replace(ANSI, '').length;
}

export function renderTable<Row>(rows: Row[], columns: Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => column.cell(row)));
  const widths = columns.map((column, i) =>
    Math.max(visibleWidth(column.header), ...cells.map((line) => visibleWidth(line[i] ?? ''))),
  );
  const pad = (text: string, i: number) => {
    const gap = ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleWidth(text)));
    return columns[i]?.right ? gap + text : text + gap;
  };
  const header = columns
    .map((column, i) => pad(column.header, i))
    .join('  ')
    .trimEnd();
  const lines = [colorsEnabled() ? c.bold(header) : header];
  for (const line of cells)
    lines.push(
      line
        .map((text, i) => pad(text, i))
        .join('  ')
        .trimEnd(),
    );
  return `${lines.join('\n')}\n`;
}
