import { describe, expect, it } from "vitest";
import { renderScreen } from "./terminalScreen.js";

describe("renderScreen (the terminal model the pseudo-terminal tests read with)", () => {
  it.each([
    ["plain lines", "one\ntwo\n", ["one", "two"]],
    ["a carriage return writes over the line", "12345\rab\n", ["ab345"]],
    ["a bar redrawn in place, then a line after it", "\x1b[1Gbar 1/2\x1b[0K\x1b[1Gbar 2/2\x1b[0K\nsummary\n", ["bar 2/2", "summary"]],
    ["erase the whole line, then write", "progress\x1b[2K\x1b[1Glog line\n", ["log line"]],
    ["text written after a bar is glued to it", "bar 1/2log line\n", ["bar 1/2log line"]],
    ["colours and modes show nothing", "\x1b[?25l\x1b[31mred\x1b[39m\x1b[?25h\n", ["red"]],
    ["cursor up rewrites an earlier line", "a\nb\n\x1b[2Ac\n", ["c", "b"]],
    ["a restored cursor writes over what came after the save", "\x1b7bar\nlog 1\nlog 2\n\x1b8\nsummary\n", ["bar", "summary", "log 2"]],
    ["erase below drops the rows under the cursor", "a\nb\nc\x1b[1A\x1b[1G\x1b[J", ["a"]],
  ])("renderScreen › %s", (_what, raw, screen) => {
    expect(renderScreen(raw)).toEqual(screen);
  });

  it("renderScreen › throws on a sequence it does not model", () => {
    expect(() => renderScreen("\x1b[5;1H")).toThrow(/unknown escape sequence/);
    expect(() => renderScreen("\x1b]0;title\x07")).toThrow(/unknown escape sequence/);
  });
});
