// Runs `congruent vulnscan …` through registerVulnscan until src/cli/main.ts wires it in:
// the same error handling as main.ts (one line on stderr, exit 1).
import { Command, CommanderError } from "commander";
import { registerVulnscan } from "../../src/cli/vulnscan.js";

const program = new Command("congruent").exitOverride();
registerVulnscan(program);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  process.stderr.write(`congruent: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}\n`);
  process.exit(1);
}
