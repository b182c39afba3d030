// AWS adapter layer: the error classifier lives in shared/runtime/aws-errors.ts
// (pure: it reads an error's name and status, calls nothing), so that use
// cases and restore steps may classify a refusal without importing an
// adapter module. The adapters keep importing it from here, their own layer.
export * from '../runtime/aws-errors.ts';
