#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { registerFor } from "./groups.js";

const program = new Command("congruent")
  .description(
    "Congruent: a host is a pure function of its description. `build` turns a host description and the " +
      "integration points (/etc/local/<component>/) into a generation in a content-addressed store; " +
      "`switch` activates it atomically, reloading instead of restarting wherever the software allows; " +
      "`rollback` returns to the previous generation.",
  )
  .version("0.1.0")
  // Options after a command belong to it (`channel release --version V` is not the program's --version).
  .enablePositionalOptions()
  .showHelpAfterError("(run with --help for usage)")
  .addHelpText(
    "after",
    `
Environment:
  CONGRUENT_STATE   state directory (default /var/lib/congruent): store, profiles, gcroots, services
  CONGRUENT_LOCAL   integration points root (default /etc/local)
  CONGRUENT_SERVICE_MANAGER  s6 | systemd | auto (default auto: systemd when it is PID 1)
  CONGRUENT_STORE   embedded | nix (default embedded): the store build, switch, gc, manage and profile use

Exit status: 0 on success; 1 with a one-line error on stderr otherwise.
Errors are documented in docs/errors.md.`,
  );

// `congruent … | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

try {
  // Only the command group this run needs is loaded (every group, when the run lists commands).
  await registerFor(program, process.argv.slice(2));
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`congruent: ${message.split("\n")[0]}\n`);
  if (process.env.CONGRUENT_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}
