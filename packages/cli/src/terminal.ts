import type { FormatHealthOptions } from "@partkeeper/core";

/**
 * How health text is printed on stdout: colours and the terminal's width in a terminal, unless
 * NO_COLOR is set (https://no-color.org: any non-empty value); plain 72 columns in a pipe or file.
 */
export function healthTextOptions(): FormatHealthOptions {
  const tty = Boolean(process.stdout.isTTY);
  return { color: tty && !process.env.NO_COLOR, width: tty ? process.stdout.columns : undefined };
}
