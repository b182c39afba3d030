// Bridges serverless.yml to the policy's logs.landing (s3://bucket/prefix/) for
// the log-archive role: `${file(./deploy/logs-landing.cjs):bucketArn}` and
// `:objectsArn`. Reads the policy through deploy/from-policy.cjs (one render).
const fromPolicy = require('./from-policy.cjs');

function landing() {
  const policy = JSON.parse(fromPolicy.policyJson());
  const url = policy.logs?.landing;
  // No logs section: a name that matches no bucket, so the role grants nothing real.
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(url || 's3://kura-no-log-landing/');
  return { bucket: m[1], prefix: m[2] };
}

module.exports = {
  bucketArn: () => `arn:aws:s3:::${landing().bucket}`,
  objectsArn: () => `arn:aws:s3:::${landing().bucket}/${landing().prefix}*`,
  prefix: () => landing().prefix,
};
