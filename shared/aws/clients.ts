// AWS adapter: the one place SDK clients are made. Honours the standard
// credential/region chain and AWS_ENDPOINT_URL (the local emulator), uses the
// SDK's adaptive retry mode, and caches one client per service, account and
// region. Code acting in another account receives a Clients made from that
// account's credentials (see assumeRole), never a global.
//
// Clients are asked for by constructor (`clients.get(RDSClient)`) so that a
// Lambda bundle contains only the service clients its code imports.
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';

export interface ClientsOptions {
  region?: string;
  credentials?: AwsCredentialIdentity;
  endpoint?: string;
  /** Which account these clients act in, for logs and reports. */
  label?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: SDK client constructors take differing config types.
type ClientCtor<T> = new (config: any) => T;

export class Clients {
  readonly region: string;
  readonly endpoint: string | undefined;
  readonly label: string;
  private readonly cache = new Map<ClientCtor<unknown>, Map<string, unknown>>();

  constructor(private readonly options: ClientsOptions = {}) {
    this.region =
      options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'ap-northeast-1';
    this.endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? undefined;
    this.label = options.label ?? 'source';
  }

  /** The client of one service in one region (default: this account's region). */
  get<T>(ctor: ClientCtor<T>, region = this.region): T {
    let byRegion = this.cache.get(ctor);
    if (!byRegion) {
      byRegion = new Map();
      this.cache.set(ctor, byRegion);
    }
    let client = byRegion.get(region) as T | undefined;
    if (!client) {
      client = new ctor({
        region,
        retryMode: 'adaptive',
        maxAttempts: 6,
        ...(this.endpoint
          ? // Path-style S3 addressing: virtual hosts do not resolve on a local endpoint.
            { endpoint: this.endpoint, forcePathStyle: true }
          : {}),
        ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
      });
      byRegion.set(region, client);
    }
    return client;
  }

  sts(region?: string): STSClient {
    return this.get(STSClient, region);
  }

  async accountId(): Promise<string> {
    const id = await this.sts().send(new GetCallerIdentityCommand({}));
    if (!id.Account) throw new Error('STS GetCallerIdentity returned no account');
    return id.Account;
  }

  /** Clients acting in another account through STS AssumeRole (with external id when given). */
  async assumeRole(
    roleArn: string,
    opts: { externalId?: string; sessionName?: string; region?: string } = {},
  ): Promise<Clients> {
    const out = await this.sts().send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: opts.sessionName ?? 'kura',
        ExternalId: opts.externalId,
        DurationSeconds: 3600,
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      throw new Error(`AssumeRole ${roleArn} returned no credentials`);
    return new Clients({
      region: opts.region ?? this.region,
      endpoint: this.endpoint,
      label: roleArn,
      credentials: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      },
    });
  }
}
