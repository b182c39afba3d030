// AWS adapter: the credential chain of kura's Lambda bundles. The packaging aliases
// `@aws-sdk/credential-provider-node` (the SDK's default chain, which every
// client's runtime config imports) to this module (serverless.yml,
// custom.esbuild.alias), so that a function carries neither the SSO, SSO-OIDC
// and STS clients of the chain nor its ini, process, web-identity and IMDS
// providers: about 90 KB of every bundle, parsed at each cold start.
// Lambda gives a function its role's credentials in AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and nothing else is needed
// there. The CLI and the tests run unbundled and keep the full chain (named
// profiles, --isolated-profile).
import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';

/** What the clients' runtime config calls for its default credentials: the environment's. */
export function defaultProvider(init: Parameters<typeof fromEnv>[0] = {}): AwsCredentialIdentityProvider {
  const fromEnvironment = fromEnv(init);
  return async () => {
    try {
      return await fromEnvironment();
    } catch (err) {
      const e = new Error(
        "no AWS credentials in the environment: a Lambda bundle of kura reads only AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (where Lambda puts the role's credentials), no profile or config file",
        { cause: err },
      );
      e.name = 'CredentialsProviderError';
      throw e;
    }
  };
}
