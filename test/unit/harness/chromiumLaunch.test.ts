// The browser tests' launch failure: a missing Chromium says how to install it, in one line; any other failure
// keeps the first line of Playwright's error (its launch log follows it).
import t from 'tap';
import { chromiumLaunchFailure } from '../../../harness/peers/chromiumPeer.js';

t.test('missing: how to install it, and the override', async (t) => {
  const m = chromiumLaunchFailure('/usr/bin/chromium', false, new Error('Executable doesn’t exist'));
  t.match(m, /Chromium is not installed at \/usr\/bin\/chromium/);
  t.match(m, /apt-get install -y chromium/);
  t.match(m, /TEST_CHROMIUM_PATH/);
  t.notMatch(m, /\n/, 'one line');
});

t.test('present but failing: Playwright’s first line only', async (t) => {
  const err = new Error(
    'browserType.launch: Target page, context or browser has been closed\n=== logs ===\nlots',
  );
  t.equal(
    chromiumLaunchFailure('/opt/chrome', true, err),
    'Chromium failed to launch (/opt/chrome): browserType.launch: Target page, context or browser has been closed',
  );
  t.equal(
    chromiumLaunchFailure('/opt/chrome', true, 'boom'),
    'Chromium failed to launch (/opt/chrome): boom',
  );
});
