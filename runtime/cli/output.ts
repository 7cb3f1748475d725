/** Terminal output of the CLI: colours only on a TTY (and never with NO_COLOR). */
const useColour = () => !!process.stdout.isTTY && !process.env.NO_COLOR && process.env.TERM !== "dumb";
const wrap = (open: number, close: number) => (s: string) => (useColour() ? `\x1b[${open}m${s}\x1b[${close}m` : s);

export const paint = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
};

export const out = (s = ""): void => void process.stdout.write(s + "\n");

/** Exits with a message on stderr (1: the pool said no or is not there; 2: usage). */
export function fail(message: string, code = 1): never {
  process.stderr.write(`agentpool: ${message}\n`);
  process.exit(code);
}
