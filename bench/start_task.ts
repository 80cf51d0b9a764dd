/**
 * What `deno task start` runs (deno.json): the bench starts Sluice with the same runtime flags, and a CLI
 * test starts it so too, so the three cannot drift apart.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url).pathname;

/** deno.json's tasks. */
export function denoTasks(): Record<string, string> {
  return (JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)) as { tasks: Record<string, string> }).tasks;
}

/**
 * The words of the start task between `deno run` and `server.ts`: its permission and its V8 flags
 * (--max-semi-space-size). Throws when the task is not `deno run ... server.ts`.
 */
export function startTaskFlags(): string[] {
  const start = denoTasks().start;
  const words = start.split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run" || words.at(-1) !== "server.ts") {
    throw new Error(`Cannot read deno.json's start task: "${start}" is not deno run ... server.ts`);
  }
  return words.slice(2, -1);
}
