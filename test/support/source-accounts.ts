// Test support: the accounts of issue 16's topology in the emulator. The
// backup account is moto's default (plain credentials); two source accounts,
// one of them in two regions, each reached only through its kura-source role
// (STS AssumeRole with its ExternalId, as on AWS); the isolated account is
// the reference policy's. Defined in local/ (the demo's ransomware day uses them too).
export {
  crossAccountKey as customerKey,
  SOURCE_A,
  SOURCE_B,
  SOURCE_B_SECOND_REGION,
  sourceRoleArn,
  withTwoSources,
} from '../../local/ransomware-estate.ts';
