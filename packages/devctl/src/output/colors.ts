// Colours through node's own util.styleText (no module to load at start-up). Off for --json,
// NO_COLOR, TERM=dumb and output that is not a terminal; FORCE_COLOR turns them on.
import { styleText } from 'node:util';

let enabled =
  (Boolean(process.stdout.isTTY) || Boolean(process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0')) &&
  !process.env.NO_COLOR &&
  process.env.TERM !== 'dumb';

/** Turns colours off (for --json, or when a command knows its output is parsed). */
export function disableColors(): void {
  enabled = false;
}

export function colorsEnabled(): boolean {
  return enabled;
}

type Paint = (text: string) => string;
type Style = Parameters<typeof styleText>[0];
const wrap =
  (style: Style): Paint =>
  (text) =>
    enabled ? styleText(style, text) : text;

export const c = {
  bold: wrap('bold'),
  dim: wrap('dim'),
  red: wrap('red'),
  green: wrap('green'),
  yellow: wrap('yellow'),
  blue: wrap('blue'),
  cyan: wrap('cyan'),
  magenta: wrap('magenta'),
  gray: wrap('gray'),
};
