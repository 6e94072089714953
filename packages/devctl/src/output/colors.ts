import pc from 'picocolors';

let enabled = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';

/** Turns colours off (for --json, or when a command knows its output is parsed). */
export function disableColors(): void {
  enabled = false;
}

export function colorsEnabled(): boolean {
  return enabled;
}

type Paint = (text: string) => string;
const wrap =
  (fn: Paint): Paint =>
  (text) =>
    enabled ? fn(text) : text;

export const c = {
  bold: wrap(pc.bold),
  dim: wrap(pc.dim),
  red: wrap(pc.red),
  green: wrap(pc.green),
  yellow: wrap(pc.yellow),
  blue: wrap(pc.blue),
  cyan: wrap(pc.cyan),
  magenta: wrap(pc.magenta),
  gray: wrap(pc.gray),
};
