// Test support: kura's functions, each run as its own role, and the role a
// test takes when it drives a restore use case directly (local/iam/functions.ts).
export {
  amiBackup,
  asRestoreItem,
  asRestorePlan,
  asValidationRestore,
  contentBackup,
  logArchive,
  logBundle,
  rdsSnapshot,
  restore,
  restoreItemOf,
  validationContent,
  validationDatabase,
  validationImage,
  validationLogs,
  validationReport,
  validationStep,
} from '../../local/iam/functions.ts';
