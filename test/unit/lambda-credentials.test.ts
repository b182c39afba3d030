// Unit: the credential chain of the Lambda bundles (shared/aws/lambda-credentials.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { defaultProvider } from '../../shared/aws/lambda-credentials.ts';

const KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;
const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('the Lambda bundles’ credential chain', () => {
  it('returns the role credentials Lambda puts in the environment', async () => {
    // Prepare
    process.env.AWS_ACCESS_KEY_ID = 'ASIAEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
    process.env.AWS_SESSION_TOKEN = 'token';

    // Act
    const creds = await defaultProvider()();

    // Assess
    expect(creds).toMatchObject({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });
  });

  it('names the variables it reads when the environment holds no credentials', async () => {
    // Prepare
    for (const k of KEYS) delete process.env[k];

    // Act / Assess
    await expect(defaultProvider()()).rejects.toMatchObject({
      name: 'CredentialsProviderError',
      message: expect.stringContaining('AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN'),
    });
  });
});
