// Local runtime: `kura demo` runs every class's demo step in turn on the
// emulator: the whole pipeline end to end, then a ransomware day across
// the backup account, two source accounts and the isolated account.
import { contentDemo } from './content.ts';
import { imagesDemo } from './images.ts';
import { logsDemo } from './logs.ts';
import { ransomwareDemo } from './ransomware.ts';
import { rdsDemo } from './rds.ts';
import type { DemoStep } from './types.ts';
import { validationDemo } from './validation.ts';

export const DEMO_STEPS: DemoStep[] = [
  rdsDemo,
  imagesDemo,
  contentDemo,
  logsDemo,
  validationDemo,
  ransomwareDemo,
];
