import type { Clock } from '../../src/util/clock.js';

/** Like systemClock, but its timers keep the test process alive (systemClock's are unref'd). */
export const refClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const h = setTimeout(fn, ms);
    return {
      cancel: () => {
        clearTimeout(h);
      },
    };
  },
};
