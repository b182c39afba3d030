// What every run is given: the validated policy and the AWS clients (one per
// service, account and region, on the run's timer). Use cases build no
// clients of their own; the edge (shared/edge/, cli/support/context.ts) makes
// these once and the ports on top of them.
import type { Policy } from '../policy/schema.ts';
import type { Clients } from './clients.ts';

export interface Deps {
  policy: Policy;
  clients: Clients;
  /**
   * The isolated account's own credentials, when an operator holds them (the CLI's
   * --isolated-profile). Absent: kura enters the isolated account by assuming its
   * restore role, which trusts only kura's restore and validation functions.
   */
  isolated?: Clients;
}
