// AWS adapter: the one place SDK clients are made. Uses the standard
// credential and region chain, the SDK's adaptive retry mode, and caches one
// client per service, account and region. Code acting in another account
// receives a Clients made from that account's credentials (see assumeRole),
// never a global.
//
// Whoever creates a Clients decides where it talks to: `endpoint` (an
// emulator, given explicitly by whoever started it; nothing is inferred from
// the environment here), extra SDK `middleware`, and the `timer` that polls
// wait on. Code that receives a Clients takes one path wherever it runs.
//
// Clients are asked for by constructor (`clients.get(RDSClient)`) so that a
// Lambda bundle contains only the service clients its code imports.
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  BuildMiddleware,
  MiddlewareStack,
} from '@aws-sdk/types';
import { realTimer, type Timer } from '../runtime/timer.ts';

/** An SDK middleware added to every client, at the build step (before signing) unless `step` says otherwise. */
export interface ClientMiddleware {
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: applies to every service's input and output types.
  middleware: BuildMiddleware<any, any>;
  /** `deserialize` sees the request as sent (signed). */
  step?: 'build' | 'deserialize';
}

export interface ClientsOptions {
  region?: string;
  /** Fixed credentials or a provider (an operator's named profile); absent: the SDK's default chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** The service endpoint (an emulator); absent means AWS's own endpoints. */
  endpoint?: string;
  /** Which account these clients act in, for logs and reports. */
  label?: string;
  middleware?: ClientMiddleware[];
  /** What in-process polls wait on (default: real time). */
  timer?: Timer;
}

// biome-ignore lint/suspicious/noExplicitAny: SDK client constructors take differing config types.
type ClientCtor<T> = new (config: any) => T;

export class Clients {
  readonly region: string;
  readonly endpoint: string | undefined;
  readonly label: string;
  readonly timer: Timer;
  private readonly cache = new Map<ClientCtor<unknown>, Map<string, unknown>>();

  constructor(private readonly options: ClientsOptions = {}) {
    this.region =
      options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'ap-northeast-1';
    this.endpoint = options.endpoint;
    this.label = options.label ?? 'source';
    this.timer = options.timer ?? realTimer;
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
        // S3 on an IP-address endpoint is addressed path-style by the SDK's own endpoint rules.
        ...(this.endpoint ? { endpoint: this.endpoint } : {}),
        ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
      });
      const stack = (client as { middlewareStack: MiddlewareStack<object, object> }).middlewareStack;
      for (const m of this.options.middleware ?? [])
        stack.add(m.middleware as never, { step: (m.step ?? 'build') as 'build', name: m.name });
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
    return this.withCredentials(await this.roleCredentials(roleArn, opts), roleArn, opts.region);
  }

  /** One AssumeRole session's credentials (one hour). */
  private async roleCredentials(
    roleArn: string,
    opts: { externalId?: string; sessionName?: string },
  ): Promise<AwsCredentialIdentity> {
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
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  }

  /**
   * Clients acting in another account through a role these clients may
   * assume (a source account's kura-source role, with its ExternalId), in
   * `region`. Lazy and refreshing: AssumeRole is called on the first request
   * and again 5 minutes before the session ends, so Clients kept by a warm
   * Lambda container never send expired credentials.
   */
  assumingRole(
    roleArn: string,
    opts: { externalId?: string; sessionName?: string; region?: string },
  ): Clients {
    let current: Promise<AwsCredentialIdentity> | undefined;
    const fresh = () => this.roleCredentials(roleArn, opts);
    const provider: AwsCredentialIdentityProvider = async () => {
      const held = current && (await current.catch(() => undefined));
      if (!held || (held.expiration && held.expiration.getTime() - Date.now() < 300_000)) {
        current = fresh();
        current.catch(() => {
          current = undefined;
        });
      }
      return current as Promise<AwsCredentialIdentity>;
    };
    return new Clients({
      ...this.options,
      region: opts.region ?? this.region,
      label: roleArn,
      credentials: provider,
    });
  }

  /** Clients with the same endpoint, middleware and timer, acting with other credentials. */
  withCredentials(credentials: AwsCredentialIdentity, label: string, region = this.region): Clients {
    return new Clients({ ...this.options, region, label, credentials });
  }
}
