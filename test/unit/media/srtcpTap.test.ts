/**
 * srtcpTap: a DTLS transport's SRTCP through the own ciphers — what the tapped session protects is what werift's
 * session protects, byte for byte (both profiles, two SSRCs, packets before and after the tap on one index
 * counter, the 2^31 index wrap), what it unprotects is what werift unprotects; forged, short and replayed
 * packets throw werift's SrtpAuthenticationError (a late packet inside the window is read once, a replay never
 * reaches the sink or the direct path); a session replaced later (an SRTP restart) is tapped too; a transport not
 * of werift's shape is left alone.
 */
import t from 'tap';
import { SrtcpSession, SrtpAuthenticationError, type RTCDtlsTransport } from 'werift';
import { SendSlab } from '../../../src/media/sendSlab.js';
import { protectRtcpDirect, receiveRtcpDirect, tapSrtcp } from '../../../src/media/srtcpTap.js';
import { prng, randomBytes } from './srtp/impls.js';

function keysFor(profile: number, rand: () => number) {
  const key = randomBytes(rand, 16);
  const salt = randomBytes(rand, profile === 0x0007 ? 12 : 14);
  return { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt };
}

/** An RTCP packet (an RR with `blocks` random report blocks) from `ssrc`. */
function rtcp(rand: () => number, ssrc: number, blocks: number): Buffer {
  const b = Buffer.alloc(8 + 24 * blocks);
  b[0] = 0x80 | blocks;
  b[1] = 201;
  b.writeUInt16BE(1 + 6 * blocks, 2);
  b.writeUInt32BE(ssrc, 4);
  randomBytes(rand, 24 * blocks).copy(b, 8);
  return b;
}

/** The part of werift 0.24.4's RTCDtlsTransport the tap uses: the session, assigned by `updateSrtpSession`. */
class StandIn {
  constructor(public srtcp: SrtcpSession) {}
  updateSrtpSession(next: SrtcpSession): void {
    this.srtcp = next;
  }
}

function transport(session: SrtcpSession): RTCDtlsTransport & StandIn {
  return new StandIn(session) as unknown as RTCDtlsTransport & StandIn;
}

type Counter = { getSrtcpSsrcState(ssrc: number): { srtcpIndex: number } };

for (const profile of [0x0001, 0x0007]) {
  t.test(`profile ${profile}: protects what werift protects, before and after the tap`, async (t) => {
    const rand = prng(0x5c7 + profile);
    const keys = keysFor(profile, rand);
    const werift = new SrtcpSession({ keys, profile });
    const tapped = transport(new SrtcpSession({ keys, profile }));
    const receiver = new SrtcpSession({ keys, profile });
    let same = 0;
    for (let i = 0; i < 40; i++) {
      if (i === 5) {
        t.ok(tapSrtcp(tapped), 'tapped after five packets');
        t.ok(Object.hasOwn(tapped.srtcp, 'encrypt'), 'the own cipher protects from now on');
      }
      if (i === 20) {
        // near the 31-bit wrap: both counters set alike
        for (const s of [werift.localContext, tapped.srtcp.localContext] as unknown as Counter[]) {
          s.getSrtcpSsrcState(0x1111_0001).srtcpIndex = 0x7fff_fffd;
        }
      }
      const ssrc = i % 3 === 0 ? 0x2222_0002 : 0x1111_0001;
      const raw = rtcp(rand, ssrc, i % 4);
      const theirs = werift.encrypt(raw);
      const mine = tapped.srtcp.encrypt(raw);
      if (mine.equals(theirs)) {
        same++;
      } else {
        t.fail(`packet ${i}: different bytes`);
      }
      t.same(receiver.decrypt(mine), raw, `packet ${i}: werift unprotects it`);
    }
    t.equal(same, 40);
    const idx = (tapped.srtcp.localContext as unknown as Counter).getSrtcpSsrcState(0x1111_0001).srtcpIndex;
    t.ok(idx < 100, `the index wrapped to 0 and went on (${idx})`);
  });

  t.test(
    `profile ${profile}: unprotects what werift unprotects; forged and short packets throw`,
    async (t) => {
      const rand = prng(0xdec + profile);
      const keys = keysFor(profile, rand);
      const sender = new SrtcpSession({ keys, profile });
      const tapped = transport(new SrtcpSession({ keys, profile }));
      t.ok(tapSrtcp(tapped));
      for (let i = 0; i < 20; i++) {
        const raw = rtcp(rand, 0x3333_0000 + i, i % 5);
        t.same(tapped.srtcp.decrypt(sender.encrypt(raw)), raw);
      }
      const good = sender.encrypt(rtcp(rand, 0x4444_0000, 2));
      const forged = Buffer.from(good);
      forged[12] = (forged[12] ?? 0) ^ 1;
      t.throws(() => tapped.srtcp.decrypt(forged), SrtpAuthenticationError, 'forged');
      t.throws(() => tapped.srtcp.decrypt(good.subarray(0, 10)), SrtpAuthenticationError, 'short');
      t.same(tapped.srtcp.decrypt(good).length, 8 + 48, 'the good one still unprotects');
    },
  );

  t.test(`profile ${profile}: replays throw, late packets are read once`, async (t) => {
    const rand = prng(0x9e1 + profile);
    const keys = keysFor(profile, rand);
    const sender = new SrtcpSession({ keys, profile });
    const seen: Buffer[] = [];
    const tr = transport(new SrtcpSession({ keys, profile }));
    t.ok(tapSrtcp(tr, (plain) => seen.push(Buffer.from(plain))));
    const raws = [0, 1, 2, 3].map(() => rtcp(rand, 0x7777_0001, 1));
    const sent = raws.map((r) => sender.encrypt(r)); // SRTCP indexes 1 … 4
    const otherRaw = rtcp(rand, 0x7777_0002, 0);
    const other = sender.encrypt(otherRaw); // another SSRC, index 1 of its own
    for (const i of [0, 1, 3]) {
      tr.srtcp.decrypt(Buffer.from(sent[i]!));
    }
    t.throws(() => tr.srtcp.decrypt(Buffer.from(sent[3]!)), SrtpAuthenticationError, 'the newest again');
    t.throws(() => tr.srtcp.decrypt(Buffer.from(sent[0]!)), SrtpAuthenticationError, 'an older one again');
    t.equal(receiveRtcpDirect(tr, Buffer.from(sent[1]!)), false, 'direct path: a replay is refused');
    tr.srtcp.decrypt(Buffer.from(sent[2]!));
    t.throws(() => tr.srtcp.decrypt(Buffer.from(sent[2]!)), SrtpAuthenticationError, 'the late one, twice');
    tr.srtcp.decrypt(other);
    t.same(seen.slice(0, 4), [raws[0], raws[1], raws[3], raws[2]], 'each packet read once, the late one too');
    t.same(seen.slice(4), [otherRaw], "another SSRC's index 1 is its own");
  });
}

for (const profile of [0x0001, 0x0007]) {
  t.test(`profile ${profile}: protectRtcpDirect — werift's bytes, on werift's index counter`, async (t) => {
    const rand = prng(0xd1c + profile);
    const keys = keysFor(profile, rand);
    const werift = new SrtcpSession({ keys, profile });
    const tr = transport(new SrtcpSession({ keys, profile }));
    const raw0 = rtcp(rand, 0x1234_5678, 1);
    t.equal(protectRtcpDirect(tr, raw0), undefined, 'not tapped: undefined (werift must send it)');
    t.ok(tapSrtcp(tr));
    t.equal(protectRtcpDirect(tr, raw0.subarray(0, 7)), undefined, 'shorter than an RTCP header: undefined');
    const slab = new SendSlab(4096);
    for (let i = 0; i < 12; i++) {
      const ssrc = i % 2 === 0 ? 0x1234_5678 : 0xfedc_ba98; // the top bit set: read unsigned
      const raw = rtcp(rand, ssrc, i % 3);
      const copy = Buffer.from(raw);
      const theirs = werift.encrypt(raw);
      // Alternating with the tapped session's own encrypt: one counter, as werift's.
      const mine =
        i % 3 === 2 ? tr.srtcp.encrypt(raw) : protectRtcpDirect(tr, raw, i % 2 === 0 ? slab : undefined);
      t.same(mine, theirs, `packet ${i}: the bytes werift protects`);
      t.same(raw, copy, `packet ${i}: the plain packet is not modified`);
    }
    t.ok(slab.used > 0, 'with a slab: the datagram is in its memory');
  });
}

t.test(
  'a session set later (SRTP restart) is tapped; tapping twice is a no-op; a foreign shape is left',
  async (t) => {
    const rand = prng(0x7a9);
    const keys = keysFor(0x0001, rand);
    const tr = transport(new SrtcpSession({ keys, profile: 0x0001 }));
    t.ok(tapSrtcp(tr));
    t.ok(tapSrtcp(tr), 'again: true, nothing changed');
    const fresh = new SrtcpSession({ keys, profile: 0x0001 });
    t.notOk(Object.hasOwn(fresh, 'encrypt'));
    tr.updateSrtpSession(fresh);
    t.equal(tr.srtcp, fresh);
    t.ok(Object.hasOwn(fresh, 'encrypt'), 'the new session encrypts with the own cipher');
    const raw = rtcp(rand, 0x5555_0001, 1);
    t.same(new SrtcpSession({ keys, profile: 0x0001 }).decrypt(tr.srtcp.encrypt(raw)), raw);

    t.notOk(
      tapSrtcp({ srtcp: fresh } as unknown as RTCDtlsTransport),
      'no updateSrtpSession: not werift’s shape, false',
    );
    t.notOk(tapSrtcp({} as unknown as RTCDtlsTransport), 'no srtcp property: false');
  },
);

t.test(
  'the sink reads every unprotected packet, werift gets none; the direct path reads without werift',
  async (t) => {
    const rand = prng(0x51c);
    const keys = keysFor(0x0007, rand);
    const sender = new SrtcpSession({ keys, profile: 0x0007 });
    const seen: Buffer[] = [];
    const tr = transport(new SrtcpSession({ keys, profile: 0x0007 }));
    t.ok(
      tapSrtcp(tr, (plain) => {
        seen.push(Buffer.from(plain));
      }),
    );
    const rr = rtcp(rand, 0x6666_0001, 1);
    const sr = Buffer.from(rr);
    sr[1] = 200;
    t.equal(tr.srtcp.decrypt(sender.encrypt(rr)).length, 0, 'an RR: werift gets nothing');
    t.equal(tr.srtcp.decrypt(sender.encrypt(sr)).length, 0, 'an SR: werift gets nothing either');
    t.same(seen, [rr, sr], 'the sink read both');
    const forged = sender.encrypt(rr);
    forged[forged.length - 1] = (forged[forged.length - 1] ?? 0) ^ 0xff;
    t.throws(() => tr.srtcp.decrypt(forged), SrtpAuthenticationError);
    t.equal(seen.length, 2, 'a forged packet never reaches the sink');
    t.equal(receiveRtcpDirect(tr, sender.encrypt(rr)), true, 'direct: read');
    t.same(seen[2], rr, 'by the same sink');
    t.equal(receiveRtcpDirect(tr, forged), false, 'direct: a forgery is refused');
    t.equal(receiveRtcpDirect(tr, Buffer.alloc(6)), false, 'direct: too short to be SRTCP');
    t.equal(seen.length, 3, 'neither reached the sink');
    t.equal(
      receiveRtcpDirect(transport(new SrtcpSession({ keys, profile: 0x0007 })), rr),
      undefined,
      'untapped: no direct path',
    );

    // Keys werift's cipher keeps (unreadable here): the sink still reads what werift unprotects.
    const opaque = new SrtcpSession({ keys, profile: 0x0007 });
    Object.defineProperty(opaque.remoteContext, 'masterKey', { value: undefined });
    const tr2 = transport(opaque);
    const seen2: number[] = [];
    t.ok(tapSrtcp(tr2, (plain) => seen2.push(plain.length)));
    t.equal(tr2.srtcp.decrypt(sender.encrypt(rr)).length, 0);
    t.same(seen2, [rr.length]);
    t.equal(receiveRtcpDirect(tr2, sender.encrypt(rr)), undefined, "werift's cipher: no direct path");
  },
);
