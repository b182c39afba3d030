// Test support: kura's functions, each run as its own role (local/iam/functions.ts).
export {
  amiBackup,
  contentBackup,
  logArchive,
  logBundle,
  rdsSnapshot,
  restore,
  validationContent,
  validationDatabase,
  validationImage,
  validationLogs,
  validationReport,
  validationStep,
} from '../../local/iam/functions.ts';
