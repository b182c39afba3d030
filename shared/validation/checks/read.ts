// Validation checks: where a restore step says it put an object.
export function parseS3Id(id: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(id);
  if (!m?.[1]) throw new Error(`not an S3 location: ${id}`);
  return { bucket: m[1], key: m[2] ?? '' };
}
