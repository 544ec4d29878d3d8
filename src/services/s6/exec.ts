import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CongruentError } from "../../errors.js";

const execFileAsync = promisify(execFile);

/**
 * Run one s6 tool and return its stdout; failures become E_SERVICE naming the command
 * and what the tool said, and a missing binary names the Debian package.
 *
 * @example await s6("s6-svc", ["-u", dir])
 */
export async function s6(program: string, args: string[], timeoutMs = 30_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync(program, args, { timeout: timeoutMs });
    return stdout;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string; code?: string | number };
    if (e.code === "ENOENT") {
      throw new CongruentError("E_SERVICE", `${program} not found: install Debian's "s6" package (apt-get install s6)`);
    }
    const said = (e.stderr ?? "").trim() || e.message;
    throw new CongruentError("E_SERVICE", `${program} ${args.join(" ")} failed: ${said}`);
  }
}

/** True when `error` is the E_SERVICE an s6 tool's timeout (-T) produces. */
export function isTimeout(error: unknown): boolean {
  return error instanceof CongruentError && /timed out/.test(error.message);
}
