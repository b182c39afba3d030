// Domain: a source account and region a backup class reads from, and how
// results and reports name it. Pure (the clients acting there are made in
// shared/aws/source-clients.ts).

/** Where a backup class reads from: a source account and region (account undefined: kura's own). */
export interface SourceTarget {
  account?: string;
  region: string;
}

/** How results and reports name a target: `<account>/<region>`; '' for kura's own account. */
export function targetLabel(t: SourceTarget): string {
  return t.account ? `${t.account}/${t.region}` : '';
}
