// Domain: which resources the policy protects and where their disaster
// recovery copies go. Shared by the backup use cases and the restore steps.
import type { Policy } from '../policy/schema.ts';
import { PolicyError } from '../runtime/errors.ts';
import type { TagMap } from './tags.ts';

/** A database or instance is protected when it carries the policy's selector tag. */
export function isSelected(tags: TagMap, policy: Policy): boolean {
  return tags[policy.selector.tagKey] === policy.selector.tagValue;
}

/** Where image DR copies go and with which key, or undefined when the policy wants none. */
export function drTarget(policy: Policy): { region: string; kmsKeyId?: string } | undefined {
  const cfg = policy.images;
  if (!cfg?.copyToDrRegion) return undefined;
  const region = cfg.drRegion ?? policy.database?.copy?.region;
  if (!region) {
    throw new PolicyError([
      'images.copyToDrRegion: true but no region is known; expected images.drRegion (or database.copy.region)',
    ]);
  }
  if (region === policy.region)
    throw new PolicyError([`images.drRegion: ${region} is the policy's own region; expected another region`]);
  const kmsKeyId =
    cfg.drKmsKeyId ?? (policy.database?.copy?.region === region ? policy.database.copy.kmsKeyId : undefined);
  return { region, kmsKeyId };
}
