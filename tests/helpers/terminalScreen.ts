/**
 * A small terminal model for tests: the lines a screen shows after some raw output, enough to
 * tell whether a line was written over another or glued to the end of one. It knows carriage
 * return, line feed (as a terminal in cooked mode shows it: back to the first column), backspace,
 * tab, erase in line (`ESC[K`, `ESC[1K`, `ESC[2K`), erase below (`ESC[J`), cursor up/down/
 * forward/back and to a column (`ESC[nA/B/C/D/G`), save and restore (`ESC 7`, `ESC 8`); colours
 * and modes (`ESC[…m`, `ESC[?25l`, `ESC[?7l`) change nothing it shows. Width and height are
 * unbounded: no wrapping, no scrolling, so a restored cursor lands on the row it was saved on.
 * Anything else throws: output this model does not understand must not pass by being misread.
 */
export function renderScreen(raw: string): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const line = (): string[] => {
    while (rows.length <= row) rows.push([]);
    return rows[row]!;
  };
  const put = (ch: string) => {
    const l = line();
    while (l.length < col) l.push(" ");
    l[col] = ch;
    col++;
  };
  const chars = [...raw];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "\x1b") {
      const next = chars[i + 1];
      if (next === "7" || next === "8") {
        if (next === "7") saved = { row, col };
        else ({ row, col } = saved);
        i++;
        continue;
      }
      const m = /^\[(\??)([0-9;]*)([@-~])/.exec(chars.slice(i + 1, i + 24).join(""));
      if (m === null) throw new Error(`renderScreen: unknown escape sequence ${JSON.stringify(chars.slice(i, i + 8).join(""))}`);
      i += m[0].length;
      const [, priv, params, final] = m;
      const n = params === "" ? undefined : Number(params!.split(";")[0]);
      if (priv === "?" || final === "m") continue; // modes and colours
      switch (final) {
        case "A":
          row = Math.max(0, row - (n ?? 1));
          break;
        case "B":
          row += n ?? 1;
          break;
        case "C":
          col += n ?? 1;
          break;
        case "D":
          col = Math.max(0, col - (n ?? 1));
          break;
        case "G":
          col = Math.max(0, (n ?? 1) - 1);
          break;
        case "K": {
          const l = line();
          if ((n ?? 0) === 0) l.length = Math.min(l.length, col);
          else if (n === 1) for (let c = 0; c <= col && c < l.length; c++) l[c] = " ";
          else l.length = 0;
          break;
        }
        case "J":
          if ((n ?? 0) !== 0) throw new Error(`renderScreen: unsupported erase ESC[${params}J`);
          line().length = Math.min(line().length, col);
          rows.length = row + 1;
          break;
        default:
          throw new Error(`renderScreen: unknown escape sequence ${JSON.stringify(`\x1b[${priv}${params}${final}`)}`);
      }
      continue;
    }
    if (ch === "\r") col = 0;
    else if (ch === "\n") {
      row++;
      col = 0;
      line();
    } else if (ch === "\b") col = Math.max(0, col - 1);
    else if (ch === "\t") col = (Math.floor(col / 8) + 1) * 8;
    else if (ch === "\x07") continue;
    else if (ch < " ") throw new Error(`renderScreen: unknown control character ${JSON.stringify(ch)}`);
    else put(ch);
  }
  const lines = rows.map((r) => r.join("").trimEnd());
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  return lines;
}
