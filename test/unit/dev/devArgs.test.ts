/** `npm run dev` arguments: --foci and the base ports. */
import t from 'tap';
import { DevArgsError, devMediaPorts, devServerNames, parseDevArgs } from '../../dev/devArgs.js';

t.test('defaults: one focus on 8008 / 9000 / 8080', async (t) => {
  t.same(parseDevArgs([], {}), { foci: 1, hsPort: 8008, asPort: 9000, httpPort: 8080 });
});

t.test('--foci N and --foci=N; ports from the environment, 0 = any', async (t) => {
  t.equal(parseDevArgs(['--foci', '2'], {}).foci, 2);
  t.equal(parseDevArgs(['--foci=3'], {}).foci, 3);
  t.same(parseDevArgs(['--foci', '2'], { DEV_HS_PORT: '0', DEV_AS_PORT: '9100', DEV_HTTP_PORT: '' }), {
    foci: 2,
    hsPort: 0,
    asPort: 9100,
    httpPort: 8080,
  });
});

t.test('bad input is a DevArgsError naming the problem', async (t) => {
  const rows: [string[], Record<string, string>, RegExp][] = [
    [['--foci'], {}, /--foci needs a whole number/],
    [['--foci', '0'], {}, /--foci needs a whole number from 1 to 5/],
    [['--foci', '6'], {}, /from 1 to 5/],
    [['--foci', '1.5'], {}, /whole number/],
    [['--foci', '-1'], {}, /whole number/],
    [['--foci', '2', '--foci', '3'], {}, /given twice/],
    [['--verbose'], {}, /unknown argument "--verbose"/],
    [[], { DEV_HS_PORT: 'abc' }, /DEV_HS_PORT must be a port number/],
    [[], { DEV_HTTP_PORT: '70000' }, /DEV_HTTP_PORT must be a port number/],
    [['--foci', '3'], { DEV_AS_PORT: '65534' }, /DEV_AS_PORT must be a port number/],
  ];
  for (const [argv, env, re] of rows) {
    t.throws(() => parseDevArgs(argv, env), DevArgsError, argv.join(' '));
    t.throws(() => parseDevArgs(argv, env), re, argv.join(' '));
  }
});

t.test('server names and disjoint media port ranges per focus', async (t) => {
  t.same(devServerNames(3), ['a.example', 'b.example', 'c.example']);
  const ranges = devMediaPorts(3);
  t.equal(ranges.length, 3);
  for (let i = 1; i < ranges.length; i++) {
    t.ok(ranges[i]!.min > ranges[i - 1]!.max, 'disjoint');
  }
  t.same(devMediaPorts(1), [{ min: 40000, max: 49999 }]);
});
