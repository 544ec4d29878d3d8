import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { DirectoryClient } from "../directory/client.js";
import { CongruentError } from "../errors.js";
import { report } from "./common.js";
import { printable } from "./printable.js";
import { client, ENV_HELP, withClient, type ClientOptions } from "./directory-client.js";

/** `congruent channel create|release|promote|rollback|list|status`. */
export function registerChannel(program: Command): void {
  const channel = program
    .command("channel")
    .description("channels: immutable numbered releases that reach a canary share of hosts first")
    .addHelpText(
      "after",
      `
A release carries platform-wide defaults per role (defaults.<role>.<component>.<setting>)
and a version label. Promoting it starts a rollout: canary hosts (those whose
sha256(name) mod 100 < canary share; at least one) get it at once, the others
once every canary has applied all of it. A canary that deferred a restart to its
maintenance window has not run the release yet: the rollout waits for it
('waiting for window' in 'channel status', with its next window), or for an
admin's 'channel continue'. A canary reporting failure halts the rollout and
everyone stays on the previous release. 'rollback' moves the channel to an older
release on purpose; agents accept that (they refuse an older release otherwise).
${ENV_HELP}`,
    );

  withClient(channel.command("create"))
    .description("create a channel")
    .argument("<name>", "e.g. stable, beta")
    .option("--canary-share <percent>", "share of hosts that get a new release first (1-100, default 10)", (v) => Number(v))
    .option("--description <text>", "free text")
    .addHelpText("after", "\nExample:\n  $ congruent channel create stable --canary-share 10")
    .action(async (name: string, opts: ClientOptions & { canaryShare?: number; description?: string }) => {
      const created = await (await client(opts)).createChannel({ name, canaryShare: opts.canaryShare, description: opts.description });
      report(opts.json, created, () => `channel ${name} created (canary share ${created.canaryShare}%)`);
    });

  withClient(channel.command("release"))
    .description("add an immutable release to a channel (it is not promoted yet)")
    .argument("<channel>", "channel name")
    .requiredOption("--version <label>", "version label, e.g. 2025.03")
    .option("--defaults <file.json>", 'role defaults, e.g. {"webgateway": {"nginx": {"worker_processes": 4}}}')
    .addHelpText("after", "\nThe defaults are checked against the host schema before they are sent (an error names the\nfile and line): known roles, each with only the components it enables, each setting's type,\nrange and allowed values ('congruent host schema').\n\nExample:\n  $ congruent channel release stable --version 2025.03 --defaults platform-2025.03.json\n  release stable#3 (2025.03) added; promote it with 'congruent channel promote stable 3'")
    .action(async (name: string, opts: ClientOptions & { version: string; defaults?: string }) => {
      const defaults = opts.defaults ? await readDefaults(opts.defaults) : {};
      const release = await (await client(opts)).createRelease(name, { version: opts.version, defaults: defaults as Record<string, never> });
      report(opts.json, release, () => `release ${name}#${release.number} (${release.version}) added; promote it with 'congruent channel promote ${name} ${release.number}'`);
    });

  withClient(channel.command("promote"))
    .description("start rolling a release out: canary hosts first, then everyone")
    .argument("<channel>", "channel name")
    .argument("<number>", "release number", (v) => Number(v))
    .option("--canary-share <percent>", "this rollout's canary share (default: the channel's); 100 = everyone at once", (v) => Number(v))
    .addHelpText("after", "\nExample:\n  $ congruent channel promote stable 3\n  $ congruent channel status stable")
    .action(async (name: string, number: number, opts: ClientOptions & { canaryShare?: number }) => {
      const status = await (await client(opts)).promote(name, { number, canaryShare: opts.canaryShare });
      report(opts.json, status, () => formatStatus(status));
    });

  withClient(channel.command("rollback"))
    .description("move a channel back to an older release, on purpose, for every host")
    .argument("<channel>", "channel name")
    .argument("<number>", "an older release number", (v) => Number(v))
    .addHelpText("after", "\nExample:\n  $ congruent channel rollback stable 2")
    .action(async (name: string, number: number, opts: ClientOptions) => {
      const status = await (await client(opts)).rollback(name, { number });
      report(opts.json, status, () => formatStatus(status));
    });

  withClient(channel.command("continue"))
    .description("give the rollout's release to every host now, without waiting for its canaries")
    .argument("<channel>", "channel name")
    .addHelpText(
      "after",
      `
For a rollout whose canaries wait for their maintenance windows (or never report): the
release goes to everyone at the next poll, and the rollout is marked as forced. A halted
rollout (a canary failed) is not continued: fix forward with a new release, or roll back.

Example:
  $ congruent channel status stable
  channel stable: current 3, previous 2; rollout of 3: waiting for window (0/1 canaries applied it)
    waiting for window: db1 (Sun 02:00-04:00 Europe/Berlin, opens 2026-11-29T01:00:00.000Z)
  $ congruent channel continue stable`,
    )
    .action(async (name: string, opts: ClientOptions) => {
      const status = await (await client(opts)).continueRollout(name);
      report(opts.json, status, () => formatStatus(status));
    });

  withClient(channel.command("pause"))
    .description("pause a rollout in its canary phase: canaries keep the release, no other host gets it until resumed")
    .argument("<channel>", "channel name")
    .addHelpText("after", "\nExample:\n  $ congruent channel pause stable\n  $ congruent channel resume stable")
    .action(async (name: string, opts: ClientOptions) => {
      const status = await (await client(opts)).pause(name);
      report(opts.json, status, () => formatStatus(status));
    });

  withClient(channel.command("resume"))
    .description("resume a halted rollout (paused, or halted by a failed canary once it is fixed); a canary that fails again halts it again")
    .argument("<channel>", "channel name")
    .addHelpText("after", "\nExample:\n  $ congruent channel resume stable")
    .action(async (name: string, opts: ClientOptions) => {
      const status = await (await client(opts)).resume(name);
      report(opts.json, status, () => formatStatus(status));
    });

  withClient(channel.command("list"))
    .description("list channels and where their releases stand")
    .action(async (opts: ClientOptions) => {
      const channels = await (await client(opts)).listChannels();
      report(opts.json, channels, () =>
        channels.map((c) => `${c.name}\tcurrent ${c.current ?? "-"}\tprevious ${c.previous ?? "-"}\t${c.rolloutState ?? "no rollout"}${c.rolledBack ? "\trolled back" : ""}`).join("\n") || "(no channels)",
      );
    });

  withClient(channel.command("status"))
    .description("show where a channel's rollout stands, host by host")
    .argument("<channel>", "channel name")
    .addHelpText(
      "after",
      `
Each host: the release it runs, the one it failed (if its last report failed), the one the
directory gives it now, and its last result. Canaries whose restart waits for their window
are listed as 'waiting for window' with that window and when it next opens.

Example:
  $ congruent channel status stable
  channel stable: current 3, previous 2; rollout of 3: canary (1/2 canaries applied it)
    web4\truns 2\tgets 3\tfailed release 3\tcanary`,
    )
    .action(async (name: string, opts: ClientOptions) => {
      const status = await (await client(opts)).channelStatus(name);
      report(opts.json, status, () => formatStatus(status));
    });
}

/** A release's role defaults from a JSON file, checked against the host schema: an issue names the file and line. */
async function readDefaults(file: string): Promise<unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CongruentError("E_USAGE", `--defaults ${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const [{ parseJson }, { checkRoleDefaults }, { describeIssue }] = await Promise.all([import("../generation/json-source.js"), import("../schema/host.js"), import("../schema/issue.js")]);
  const doc = parseJson(file, text, "E_HOST_INVALID");
  const issue = checkRoleDefaults(doc.value)[0];
  if (issue) {
    const line = doc.lineAt(issue.path);
    throw new CongruentError("E_HOST_INVALID", `${file}${line ? `:${line}` : ""}: ${describeIssue(issue)}`);
  }
  return doc.value;
}

function formatStatus(s: Awaited<ReturnType<DirectoryClient["channelStatus"]>>): string {
  const r = s.rollout;
  const state = (rollout: NonNullable<typeof r>) =>
    rollout.state === "canary" && rollout.waiting.length > 0 ? "waiting for window" : rollout.state === "complete" && rollout.forcedAt ? `complete (continued by an admin at ${rollout.forcedAt})` : rollout.state;
  const runs = (host: string) => s.hosts.find((h) => h.name === host)?.release ?? "-";
  const lines = [
    `channel ${s.channel}: current ${s.current ?? "-"}, previous ${s.previous ?? "-"}` +
      (r ? `; rollout of ${r.release}: ${state(r)}${r.paused ? ` (paused by ${r.paused.by} at ${r.paused.at})` : ""} (${r.succeeded.length}/${r.canaryHosts.length} canaries applied it)` : "; no rollout"),
    ...(r?.waiting ?? []).map((w) => `  waiting for window: ${w.host} (${w.window ? `${w.window}, opens ${w.nextWindow ?? "?"}` : "no window: waits for 'congruent manage --force' on the host"})`),
    ...(r?.failed ?? []).map((f) => `  failed on ${f.host} (runs release ${runs(f.host)}, failed release ${r!.release}): ${printable(f.error)}`),
    ...s.hosts.map(
      (h) =>
        `  ${h.name}\truns ${h.release ?? "-"}\tgets ${h.target ?? "-"}\t${h.failed !== null ? `failed release ${h.failed}` : printable(h.lastResult ?? "never reported")}${r?.canaryHosts.includes(h.name) ? "\tcanary" : ""}`,
    ),
  ];
  return lines.join("\n");
}
