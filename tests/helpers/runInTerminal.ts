/**
 * Runs a shell command under a pseudo-terminal, as an operator's terminal runs it, and returns
 * every byte it showed there. Uses util-linux `script` (Debian: the `bsdutils` package, which is
 * essential, so always present there); without it the test fails, saying what is missing, so a
 * terminal test never passes by not running.
 */
import { spawn, spawnSync } from "node:child_process";

export type TerminalResult = { code: number | null; output: string };

/** One argument for a POSIX shell, quoted. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function requireScript(): void {
  const probe = spawnSync("script", ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0 || !/util-linux/.test(probe.stdout)) {
    throw new Error(
      "the terminal tests need util-linux `script` on PATH to give the command a pseudo-terminal (Debian/Ubuntu: apt-get install bsdutils); " +
        `\`script --version\` gave: ${probe.error?.message ?? `${probe.stdout}${probe.stderr}`.trim()}`,
    );
  }
}

/**
 * `command` runs through `sh` with its stdin, stdout and stderr on a pseudo-terminal 120 columns
 * wide; redirections inside it (`> file`) take a stream off the terminal.
 */
export async function runInTerminal(
  command: string,
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<TerminalResult> {
  requireScript();
  const child = spawn("script", ["-qfec", `stty cols 120 rows 40 && ${command}`, "/dev/null"], {
    cwd: opts.cwd,
    env: { ...(opts.env ?? process.env), SHELL: "/bin/sh" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let errors = "";
  child.stdout.on("data", (b: Buffer) => (output += b.toString()));
  child.stderr.on("data", (b: Buffer) => (errors += b.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (c) => resolve(c));
    });
    if (errors !== "") throw new Error(`script wrote to its own stderr: ${errors}`);
    return { code, output };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
