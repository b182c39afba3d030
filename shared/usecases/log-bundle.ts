// Use case (logs, monthly): bundle every loose file of a month older than
// keepMonths into one tar.gz per (class, host, month), streamed from S3 to S3
// through a bounded multipart upload, with a manifest of every member.
//
// Crash safety, step by step, for one (class, host, month):
//   1. read the committed manifests of the month (part-001, part-002, …);
//   2. loose files a committed manifest already holds (same key and ETag) are
//      leftovers of a run that stopped while deleting: delete them, bundle
//      nothing twice;
//   3. the rest go into the next part number (deterministic key); an earlier
//      attempt without a manifest is simply overwritten (a new version);
//   4. the bundle is read back (that exact version) and every member and the
//      bundle's own SHA-256 compared with what was packed;
//   5. only then the manifest is written: the commit marker;
//   6. then the loose originals are removed (If-Match their ETag).
// A crash before 5 leaves the originals and an uncommitted bundle (redone
// next run); a crash after 5 leaves originals that step 2 removes. Nothing is
// lost, nothing bundled twice. Files of a bundled month that arrive late go
// into the next part. Multipart uploads of a group's bundles that a crashed
// run left incomplete are aborted when the group is next bundled (and by the
// vault's AbortIncompleteMultipartUpload lifecycle rule).
//
// The log-bundle state machine fans the groups out: a plan step lists the due
// (class, host, month) groups, and a Distributed Map bundles each group in its
// own invocation (`bundleLogGroup`). `logBundle` does all groups in one.
//
// The parts live in log-bundle/.
export {
  committedManifests,
  dueGroups,
  FUNCTION_NAME,
  type Group,
  type GroupItem,
  type LogBundlePorts,
} from './log-bundle/groups.ts';
export { STALE_UPLOAD_MS } from './log-bundle/housekeeping.ts';
export type { GroupOptions } from './log-bundle/bundle-group.ts';
export { bundleLogGroup, logBundle, planLogBundle } from './log-bundle/run.ts';
