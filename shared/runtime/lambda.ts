// Moved: the Lambda edge is shared/edge/lambda.ts, Deps is shared/aws/deps.ts.
// Only shared/restore/* and shared/usecases/restore.ts (another branch's files)
// still import Deps from here; switch them to '../aws/deps.ts' and delete this
// file (the import-rules test names the runtime -> aws edge it keeps).
export type { Deps } from '../aws/deps.ts';
