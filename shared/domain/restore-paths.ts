// Domain (restore): names that come from backup data (a log bundle's member
// names, a content manifest's keys) become paths and keys under a restore
// target. A name that is absolute or climbs out (`..`) would write outside
// the target: it is refused, never cleaned up silently.

/** Why `name` would escape a restore target, or undefined when it stays inside. */
export function escapeProblem(name: string): string | undefined {
  if (name.length === 0) return 'an empty name';
  if (name.includes('\0')) return 'a NUL character';
  if (/^[/\\]/.test(name) || /^[A-Za-z]:[/\\]/.test(name)) return 'an absolute path';
  if (name.split(/[/\\]/).some((s) => s === '..')) return 'a ".." segment';
  return undefined;
}

/** Throws, naming the entry and what is wrong, when `name` would escape the restore target. */
export function assertInsideTarget(name: string, what: string): void {
  const problem = escapeProblem(name);
  if (problem)
    throw new Error(
      `${what} "${name}" would escape the restore target (${problem}); refused, nothing was written for it`,
    );
}
