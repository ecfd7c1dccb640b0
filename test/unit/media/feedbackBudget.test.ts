/**
 * The budget of a subscriber's RTCP feedback: a burst of twice the rate, then the rate; over it ignored; the
 * ignored units piling up past 10 s of the rate (a tenth forgiven a second) report a flood once; a heavy but real
 * client never meets it.
 */
import t from 'tap';
import {
  FeedbackBudget,
  KEYFRAME_REQUEST_UNITS,
  UNITS_PER_SECOND,
} from '../../../src/media/feedbackBudget.js';

t.test('burst, rate, ignored', async (t) => {
  const b = new FeedbackBudget(0);
  t.equal(b.take(2 * UNITS_PER_SECOND, 0), 'ok', 'a burst of two seconds of the rate');
  t.equal(b.take(1, 0), 'ignored', 'then nothing left');
  t.equal(b.take(UNITS_PER_SECOND / 2, 500), 'ok', 'half a second refills half the rate');
  t.equal(b.take(1, 500), 'ignored');
  t.equal(b.take(1, 0), 'ignored', 'time running backwards refills nothing');
});

t.test('a flood is reported once, after ≈ 10 s of the rate ignored', async (t) => {
  const b = new FeedbackBudget(0);
  b.take(2 * UNITS_PER_SECOND, 0);
  const verdicts: string[] = [];
  let units = 0;
  for (let i = 0; i < 1000 && !verdicts.includes('flood'); i++) {
    verdicts.push(b.take(512, 0)); // NACKs of 512 seqs, all at once
    units += 512;
  }
  t.equal(verdicts.filter((v) => v === 'flood').length, 1, 'reported once');
  t.ok(units > 10 * UNITS_PER_SECOND && units <= 10 * UNITS_PER_SECOND + 512, `after ${units} units ignored`);
  t.equal(b.take(512, 0), 'ignored', 'then ignored, not reported again');
});

t.test('a heavy real client never meets it', async (t) => {
  const b = new FeedbackBudget(0);
  // 20 streams, each NACKing 10 % of 270 pkt/s twice over, and a PLI a second each, for a minute.
  let ignored = 0;
  for (let ms = 0; ms < 60_000; ms += 20) {
    for (let s = 0; s < 20; s++) {
      if (b.take(Math.round((270 * 0.1 * 2 * 20) / 1000), ms) !== 'ok') {
        ignored++;
      }
      if (ms % 1000 === 0 && b.take(KEYFRAME_REQUEST_UNITS, ms) !== 'ok') {
        ignored++;
      }
    }
  }
  t.equal(ignored, 0, 'nothing ignored');
});
