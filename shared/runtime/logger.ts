// Runtime: observability set up once. One Powertools logger for every function;
// the service name is "kura" so logs from all classes can be searched together.
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({
  serviceName: 'kura',
  // Local runs (CLI, tests, demo) print results, not JSON logs, unless asked.
  logLevel: (process.env.POWERTOOLS_LOG_LEVEL ??
    (process.env.AWS_LAMBDA_FUNCTION_NAME ? 'INFO' : 'SILENT')) as 'INFO',
});
