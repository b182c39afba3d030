#!/usr/bin/env node
// The `kura` command. Runs the TypeScript sources through tsx so that
// `npx kura …` works right after `npm ci`, with no build step.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`kura needs Node.js 20.19 or newer (found ${process.versions.node}).`);
  process.exit(1);
}
// The SDK warns about its future Node.js floor on every run; that is for
// maintainers (package.json engines), not for an operator mid-incident.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'NodeVersionSupportWarning' || String(warning).includes('NodeVersionSupportWarning')) return;
  emitWarning(warning, ...rest);
};
const { register } = await import('tsx/esm/api');
register();
await import('../cli/main.ts');
