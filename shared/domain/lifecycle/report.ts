// Domain: the lifecycle report for auditors: per class, the rules the policy
// generates and, when the vault exists, whether the bucket really carries
// them. Pure: the bucket's rules come in already read (S3 API shape).
// The parts: report-model, report-build, report-markdown, report-html.
export {
  type ApiRule,
  type CanonicalRule,
  classOfRule,
  differences,
  fromApiRule,
  fromPolicyRule,
  type LifecycleReport,
  type RuleRow,
  type RuleStatus,
} from './report-model.ts';
export {
  accountExposure,
  driftFindings,
  driftSummary,
  lifecycleReport,
  SINGLE_ACCOUNT_EXPOSURE,
} from './report-build.ts';
export { lifecycleMarkdown } from './report-markdown.ts';
export { lifecycleHtml } from './report-html.ts';
