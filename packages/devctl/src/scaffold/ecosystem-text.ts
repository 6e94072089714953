// Edits of ecosystem.config.js as text, one `service(...)` line at a time, so the file stays the
// readable, hand-edited file it is (comments, order, helper function) rather than being rewritten
// from the loaded object. Callers re-load the file after writing to check the edit took.

/** One `service('<pm2 name>', '<folder>', <port>, [<depends on>])` line of the apps array. */
export interface ServiceLine {
  /** Index of the line in the file. */
  index: number;
  indent: string;
  name: string;
  folder: string;
  port: number;
  dependsOn: string[];
  /** A `// ...` comment at the end of the line, kept when the line is rewritten. */
  comment: string;
}

export interface NewServiceLine {
  name: string;
  folder: string;
  port: number;
  dependsOn: string[];
}

const LINE =
  /^(\s*)service\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*,\s*(\d+)\s*(?:,\s*\[([^\]]*)\]\s*)?\),?\s*(\/\/.*)?$/;

/** Thrown when the file does not have the shape devctl edits; the message says what to do by hand. */
export class EcosystemShapeError extends Error {
  override name = 'EcosystemShapeError';
}

function splitLines(text: string): string[] {
  return text.split('\n');
}

/** Splits `a(1, [2, 3]), b(4)` at its top-level commas. */
function topLevelItems(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of list) {
    if ('([{'.includes(char)) depth++;
    else if (')]}'.includes(char)) depth--;
    if (char === ',' && depth === 0) {
      items.push(current.trim());
      current = '';
    } else current += char;
  }
  if (current.trim()) items.push(current.trim());
  return items;
}

/**
 * Lines with a one-line `apps: [a, b],` (as a formatter lays out a short array) opened up into one
 * entry per line, the layout devctl edits.
 */
function openOneLineApps(lines: string[]): string[] {
  const at = lines.findIndex((line) => /^\s*apps\s*:\s*\[.*\]\s*,?\s*$/.test(line));
  if (at === -1) return lines;
  const match = /^(\s*)apps\s*:\s*\[(.*)\](\s*,?)\s*$/.exec(lines[at] as string) as RegExpExecArray;
  const [, indent = '', list = '', comma = ''] = match;
  const items = topLevelItems(list).map((item) => `${indent}  ${item},`);
  return [
    ...lines.slice(0, at),
    `${indent}apps: [`,
    ...items,
    `${indent}]${comma.trim()}`,
    ...lines.slice(at + 1),
  ];
}

/** The range of the `apps: [` array: the index of its opening and closing lines. */
function appsArray(lines: string[]): { open: number; close: number; indent: string } {
  const open = lines.findIndex((line) => /^\s*apps\s*:\s*\[\s*$/.test(line));
  if (open === -1) throw new EcosystemShapeError('no line "apps: [" (the apps array, one entry per line)');
  const indent = /^(\s*)/.exec(lines[open] as string)?.[1] ?? '';
  for (let index = open + 1; index < lines.length; index++) {
    const line = lines[index] as string;
    if (new RegExp(`^${indent}\\],?\\s*$`).test(line)) return { open, close: index, indent };
  }
  throw new EcosystemShapeError('the apps array has no closing "]," line at the indentation of "apps: ["');
}

/** Every `service(...)` line of the apps array (calls written otherwise are not listed). */
export function parseServiceLines(text: string): ServiceLine[] {
  const lines = splitLines(text);
  const { open, close } = appsArray(lines);
  const found: ServiceLine[] = [];
  for (let index = open + 1; index < close; index++) {
    const match = LINE.exec(lines[index] as string);
    if (!match) continue;
    const [, indent = '', name = '', folder = '', port = '0', deps = '', comment = ''] = match;
    found.push({
      index,
      indent,
      name,
      folder,
      port: Number(port),
      dependsOn: deps
        .split(',')
        .map((dep) => dep.trim().replace(/^['"]|['"]$/g, ''))
        .filter(Boolean),
      comment,
    });
  }
  return found;
}

/** The line for one service, in the file's own style: `service('x-service', 'x', 3007, ['data-service']),`. */
export function formatServiceLine(indent: string, entry: NewServiceLine, comment = ''): string {
  const deps = entry.dependsOn.length > 0 ? `, [${entry.dependsOn.map((d) => `'${d}'`).join(', ')}]` : '';
  return `${indent}service('${entry.name}', '${entry.folder}', ${entry.port}${deps}),${comment ? ` ${comment}` : ''}`;
}

/** A tool entry of the apps array written as a call without arguments, e.g. `logRotator(),`. */
const TOOL_LINE = /^\s*[A-Za-z_$][\w$]*\(\s*\),?\s*(\/\/.*)?$/;
const BLANK_OR_COMMENT = /^\s*(\/\/.*)?$/;

/** The text with one service line added after the last service line of the apps array. */
export function insertServiceLine(text: string, entry: NewServiceLine): string {
  const lines = openOneLineApps(splitLines(text));
  text = lines.join('\n');
  const { open, close, indent } = appsArray(lines);
  const existing = parseServiceLines(text);
  const last = existing.at(-1);
  if (!last) {
    const other = lines
      .slice(open + 1, close)
      .some((line) => !TOOL_LINE.test(line) && !BLANK_OR_COMMENT.test(line));
    // Entries written some other way: adding a service() call among them could be wrong.
    if (other) throw new EcosystemShapeError('the apps array has entries that are not service(...) lines');
  }
  // After the last service; with none yet, before the first tool, so services stay together on top.
  const firstTool = lines.findIndex((line, index) => index > open && index < close && TOOL_LINE.test(line));
  const at = last ? last.index + 1 : firstTool === -1 ? close : firstTool;
  lines.splice(at, 0, formatServiceLine(last?.indent ?? `${indent}  `, entry));
  return lines.join('\n');
}

/** The text without the `service('<name>', ...)` call (all its lines); undefined when there is none. */
export function removeServiceLine(text: string, name: string): string | undefined {
  const lines = splitLines(text);
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const start = lines.findIndex((line) => new RegExp(`^\\s*service\\(\\s*['"]${escaped}['"]`).test(line));
  if (start === -1) return undefined;
  // A call may span lines: remove up to the line where its parentheses balance.
  let depth = 0;
  let end = start;
  for (; end < lines.length; end++) {
    const code = (lines[end] as string).replace(/\/\/.*$/, '');
    for (const char of code) {
      if (char === '(') depth++;
      else if (char === ')') depth--;
    }
    if (depth <= 0) break;
  }
  lines.splice(start, end - start + 1);
  return lines.join('\n');
}

/** The text with each service line's depends_on rewritten by `change` (other lines untouched). */
export function rewriteDependencies(text: string, change: (line: ServiceLine) => string[]): string {
  const lines = splitLines(text);
  for (const line of parseServiceLines(text)) {
    const dependsOn = change(line);
    if (dependsOn.join('\n') === line.dependsOn.join('\n')) continue;
    lines[line.index] = formatServiceLine(line.indent, { ...line, dependsOn }, line.comment);
  }
  return lines.join('\n');
}

/** The text with the PM2 namespace constant (`const NAMESPACE = '...'`) set to `namespace`. */
export function setNamespace(text: string, namespace: string): string {
  const pattern = /^(\s*const\s+NAMESPACE\s*=\s*)(['"])[^'"]*\2/m;
  if (!pattern.test(text)) throw new EcosystemShapeError('no line "const NAMESPACE = \'...\'"');
  return text.replace(pattern, `$1'${namespace}'`);
}
