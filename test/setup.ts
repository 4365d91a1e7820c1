import { rmSync } from 'node:fs';
import { afterAll } from 'vitest';
import { TEMP_DIRS } from './helpers';

// Every test file's temporary labs, models and exports go once its tests are done, so repeated
// `npm test` runs do not fill the temp folder. FOOL_KEEP_TEST_DIRS=1 keeps them for a post-mortem.
afterAll(() => {
  if (process.env.FOOL_KEEP_TEST_DIRS === '1') return;
  for (const dir of TEMP_DIRS.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});
