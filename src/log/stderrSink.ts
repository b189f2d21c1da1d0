/**
 * Where the process's log lines go: stderr, one whole line per write, so stdout carries a
 * command's result alone. A live display on the same terminal (backfill's progress bar) can
 * take the terminal's last line while it is on screen: each log line is then handed to it to
 * print above itself, instead of landing in the middle of the bar. Knows nothing of bars.
 */

/** What holds the terminal's last line: prints a log line (ending in "\n") above itself. */
export type LiveLine = { printAbove: (text: string) => void };

let live: LiveLine | null = null;

/** A pino destination. Looks stderr up at each write, so a test that captures it sees the lines. */
export const stderrSink = {
  write(text: string): boolean {
    if (live !== null) live.printAbove(text);
    else process.stderr.write(text);
    return true;
  },
};

/** Routes log lines through `line` until the returned function is called. One at a time. */
export function holdLastLine(line: LiveLine): () => void {
  if (live !== null) throw new Error("holdLastLine: the terminal's last line is already held");
  live = line;
  return () => {
    if (live === line) live = null;
  };
}
