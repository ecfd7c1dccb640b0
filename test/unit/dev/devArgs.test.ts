/** `npm run dev` arguments: --foci and the base ports. */
import t from 'tap';
import {
  DevArgsError,
  devMediaPorts,
  devServerNames,
  parseDevArgs,
  portTakenMessage,
} from '../../dev/devArgs.js';

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

t.test('a port in use: which one, and the variable that moves it', async (t) => {
  const one = parseDevArgs([], {});
  const inUse = (port: number) =>
    Object.assign(new Error(`listen EADDRINUSE: address already in use 127.0.0.1:${port}`), {
      code: 'EADDRINUSE',
      port,
    });
  t.equal(
    portTakenMessage(inUse(8008), one),
    'port 8008 is already in use: stop what listens there, or move it with DEV_HS_PORT=<port> (0 = any free port), e.g. DEV_HS_PORT=0 npm run dev',
  );
  t.match(portTakenMessage(inUse(9000), one), /move it with DEV_AS_PORT=/);
  t.match(portTakenMessage(inUse(8080), one), /move it with DEV_HTTP_PORT=/);
  const two = parseDevArgs(['--foci', '2'], {});
  t.match(portTakenMessage(inUse(8009), two), /port 8009 .*DEV_HS_PORT=/, 'focus 2 of 2: base + 1');
  t.match(
    portTakenMessage(inUse(8010), two),
    /port 8010 .*DEV_HS_PORT, DEV_AS_PORT, DEV_HTTP_PORT/,
    'not one of ours',
  );
  const noPort = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:9000'), {
    code: 'EADDRINUSE',
  });
  t.match(portTakenMessage(noPort, one), /port 9000 .*DEV_AS_PORT=/, 'the port read from the message');
  t.equal(portTakenMessage(new Error('other'), one), undefined);
  t.equal(portTakenMessage(null, one), undefined);
});
