// Bridges serverless.yml to the TypeScript policy code: runs deploy/template.ts
// once (through tsx) and hands its pieces to `${file(./deploy/from-policy.cjs):…}`.
// A bad policy stops the packaging with the policy's own error message.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

let cached;
function render() {
  if (cached) return cached;
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'template.ts')], {
      cwd: path.join(__dirname, '..'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    cached = JSON.parse(out);
    return cached;
  } catch (err) {
    throw new Error(`kura: cannot render the template from the policy:\n${err.stderr || err.message}`);
  }
}

module.exports = {
  region: () => render().region,
  policyJson: () => render().policyJson,
  // The policy as a JavaScript string literal, for esbuild's \`define\`: bundled into
  // every function's code, so its size is not bound by Lambda's 4 KB of environment.
  policyDefine: () => JSON.stringify(render().policyJson),
  resources: () => render().resources,
  // deploy/iam/*.yml: `${file(./deploy/from-policy.cjs):landingBucketArn}` and the like.
  ...Object.fromEntries(
    [
      'landingBucketArn',
      'landingObjectsArn',
      'landingPrefixPattern',
      'contentSourceBuckets',
      'contentSourcePrefixes',
      'contentSourceObjects',
      'reportsPrefix',
      'objectLockMode',
      'isolatedRoleArn',
      'sourceRoleArns',
    ].map((k) => [k, () => render().iam[k]]),
  ),
};
