/** harness/trunkRelay.ts candidate rewriting: which candidates are relayed, where each call event carries them. */
import t from 'tap';
import { parseLoopbackCandidate, rewriteCallCandidates } from '../../../harness/trunkRelay.js';

const HOST = 'candidate:1 1 udp 2130706431 127.0.0.1 40001 typ host';
const HOST2 = 'candidate:2 1 udp 2130706430 127.0.0.1 40002 typ host';
const toPort = (port: number) => (c: string) => {
  const p = parseLoopbackCandidate(c);
  if (p === undefined) {
    return undefined;
  }
  const f = [...p.fields];
  f[5] = String(port);
  return f.join(' ');
};

t.test('parseLoopbackCandidate keeps UDP host candidates of component 1 on 127.0.0.1 only', async (t) => {
  const rows: [string, number | undefined][] = [
    [HOST, 40001],
    [`a=${HOST}`, 40001],
    [`${HOST} generation 0 ufrag abcd`, 40001],
    ['candidate:1 2 udp 2130706431 127.0.0.1 40001 typ host', undefined], // RTCP component
    ['candidate:1 1 tcp 2130706431 127.0.0.1 40001 typ host tcptype passive', undefined],
    ['candidate:1 1 udp 2130706431 192.168.1.7 40001 typ host', undefined],
    ['candidate:1 1 udp 2130706431 ::1 40001 typ host', undefined],
    ['candidate:1 1 udp 1694498815 127.0.0.1 40001 typ srflx raddr 0.0.0.0 rport 0', undefined],
    ['candidate:1 1 udp 2130706431 127.0.0.1 x typ host', undefined],
    ['', undefined],
    ['garbage', undefined],
  ];
  for (const [line, port] of rows) {
    t.equal(parseLoopbackCandidate(line)?.port, port, line);
  }
});

t.test(
  'SDP of invite, answer and negotiate: the first relayable candidate rewritten, the rest dropped',
  async (t) => {
    const sdp = [
      'v=0',
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      'a=mid:0',
      'a=candidate:9 1 udp 2130706431 10.0.0.1 5000 typ host',
      `a=${HOST}`,
      `a=${HOST2}`,
      'a=end-of-candidates',
      '',
    ].join('\r\n');
    for (const [type, field, kind] of [
      ['m.call.invite', 'offer', 'offer'],
      ['m.call.answer', 'answer', 'answer'],
      ['m.call.negotiate', 'description', 'offer'],
    ] as const) {
      const content = { call_id: 'c1', [field]: { type: kind, sdp } };
      const out = rewriteCallCandidates(type, content, toPort(50000));
      const outSdp = (out?.[field] as { sdp: string; type: string }).sdp;
      t.same(
        outSdp.split('\r\n').filter((l) => l.startsWith('a=candidate')),
        ['a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host'],
        `${type}: one candidate, on the relay's port`,
      );
      t.match(outSdp, /a=end-of-candidates/, `${type}: end-of-candidates kept`);
      t.equal((out?.[field] as { type: string }).type, kind, `${type}: description type kept`);
      t.equal(out?.['call_id'], 'c1', `${type}: other fields kept`);
      t.not(out, content, `${type}: a copy, the sent content is not changed`);
      t.match(sdp, /40001/, `${type}: original SDP untouched`);
    }
  },
);

t.test(
  'trickled candidates: rewritten, foreign ones dropped, end of candidates kept, nothing left → null',
  async (t) => {
    const out = rewriteCallCandidates(
      'm.call.candidates',
      {
        call_id: 'c1',
        candidates: [
          { candidate: 'candidate:9 1 udp 2130706431 10.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
          { candidate: HOST, sdpMid: '0', sdpMLineIndex: 0 },
          { candidate: HOST2, sdpMid: '0', sdpMLineIndex: 0 },
          { candidate: '', sdpMid: '0', sdpMLineIndex: 0 },
        ],
      },
      toPort(50001),
    );
    t.same(out?.['candidates'], [
      { candidate: 'candidate:1 1 udp 2130706431 127.0.0.1 50001 typ host', sdpMid: '0', sdpMLineIndex: 0 },
      { candidate: '', sdpMid: '0', sdpMLineIndex: 0 },
    ]);
    t.equal(
      rewriteCallCandidates(
        'm.call.candidates',
        { candidates: [{ candidate: 'candidate:9 1 udp 2130706431 10.0.0.1 5000 typ host' }] },
        toPort(1),
      ),
      null,
      'only foreign candidates: the event is dropped',
    );
  },
);

t.test('other events and malformed contents pass as they are', async (t) => {
  const hangup = { call_id: 'c1', reason: 'user_hangup' };
  t.equal(rewriteCallCandidates('m.call.hangup', hangup, toPort(1)), hangup);
  const noSdp = { call_id: 'c1', offer: { type: 'offer' } };
  t.equal(rewriteCallCandidates('m.call.invite', noSdp, toPort(1)), noSdp);
  const badList = { call_id: 'c1', candidates: 'nope' };
  t.equal(rewriteCallCandidates('m.call.candidates', badList, toPort(1)), badList);
});
