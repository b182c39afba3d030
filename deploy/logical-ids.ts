// Deployment: CloudFormation logical ids that the Serverless Framework and
// serverless-step-functions generate, so ASL files and generated resources
// can reference functions and state machines by them.

/** rds-snapshot → RdsDashsnapshotLambdaFunction (Serverless' normalisation). */
export function lambdaLogicalId(name: string): string {
  const n = name.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return `${n.charAt(0).toUpperCase()}${n.slice(1)}LambdaFunction`;
}

/** validation → ValidationStateMachine (the `id:` kura gives each state machine). */
export function stateMachineLogicalId(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1).replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}StateMachine`;
}
