/**
 * srtpReceiveState: the receive path's own SRTP for a werift SRTP session — what it decrypts is what werift's
 * `SrtpSession.decrypt` returns, byte for byte (both profiles, header extensions and CSRCs, across a sequence
 * wrap with a late packet from before it, two SSRCs), decrypted in place (the result is the datagram's own
 * memory); a forged or malformed packet gives undefined and changes no rollover counter; replays (the same
 * datagram again, before and across the wrap, or one older than the window) are dropped before decryption and
 * counted while late packets inside the window are taken once; the RTP header length table.
 */
import t from 'tap';
import { RtpHeader, SrtpSession } from 'werift';
import { rtpHeaderLength, srtpReceiveState } from '../../../../src/media/srtp/srtpReceiveState.js';
import { prng, randomBytes } from './impls.js';

function keysFor(profile: number, rand: () => number) {
  const key = randomBytes(rand, 16);
  const salt = randomBytes(rand, profile === 0x0007 ? 12 : 14);
  return { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt };
}

/** A header with 1 CSRC and a one-byte extension block (both optional). */
function header(seq: number, ssrc: number, csrc: boolean, ext: boolean): RtpHeader {
  const h = new RtpHeader({
    payloadType: 96,
    sequenceNumber: seq,
    timestamp: seq * 3000,
    ssrc,
    marker: seq % 2 === 0,
  });
  if (csrc) {
    h.csrc = [0xabcdef01];
    h.csrcLength = 1;
  }
  if (ext) {
    h.extension = true;
    h.extensionProfile = 0xbede;
    h.extensions = [{ id: 3, payload: Buffer.from([seq & 0xff, 7, 9]) }];
  }
  return h;
}

for (const profile of [0x0001, 0x0007]) {
  t.test(`profile ${profile}: decrypts what werift decrypts, across the wrap`, async (t) => {
    const rand = prng(0x7ec + profile);
    const keys = keysFor(profile, rand);
    const sender = new SrtpSession({ keys, profile });
    const werift = new SrtpSession({ keys, profile });
    const ours = srtpReceiveState(new SrtpSession({ keys, profile }));
    t.ok(ours !== null, 'remote keys read');
    const seqs: number[] = [];
    for (let s = 65525; s < 65536 + 10; s++) {
      if (s !== 65533) {
        seqs.push(s & 0xffff);
      }
    }
    seqs.splice(15, 0, 65533); // a late packet from before the wrap, first seen after it
    let same = 0;
    let inPlace = 0;
    let i = 0;
    for (const seq of seqs) {
      for (const ssrc of [0x0102_0304, 0x0a0b_0c0d]) {
        const srtp = sender.encrypt(
          randomBytes(rand, 1 + Math.floor(rand() * 1100)),
          header(seq, ssrc, i % 3 === 0, i % 2 === 0),
        );
        i++;
        const theirs = werift.decrypt(srtp);
        const mine = ours!.decrypt(srtp);
        if (mine?.buffer === srtp.buffer && mine.byteOffset === srtp.byteOffset) {
          inPlace++;
        }
        if (mine !== undefined && mine.equals(theirs)) {
          same++;
        } else {
          t.fail(
            `seq ${seq} ssrc ${ssrc.toString(16)}: ${mine === undefined ? 'refused' : 'different bytes'}`,
          );
        }
      }
    }
    t.equal(same, seqs.length * 2, `${same} packets decrypted as werift does`);
    t.equal(inPlace, seqs.length * 2, 'each in its own datagram, no copy');
  });

  t.test(`profile ${profile}: forged and malformed packets refused, no state changed`, async (t) => {
    const rand = prng(0xbad + profile);
    const keys = keysFor(profile, rand);
    const sender = new SrtpSession({ keys, profile });
    const ours = srtpReceiveState(new SrtpSession({ keys, profile }))!;
    const ssrc = 0x5555_0001;
    const first = sender.encrypt(Buffer.alloc(100, 1), header(65535, ssrc, false, false));
    t.ok(ours.decrypt(first) !== undefined, 'an authentic packet at 65535');
    // A forged packet claiming seq 0 (which would move the ROC to 1) is refused and must not move it.
    const forged = Buffer.from(sender.encrypt(Buffer.alloc(100, 2), header(0, ssrc, false, false)));
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
    t.equal(ours.decrypt(forged), undefined, 'a flipped tag bit: refused');
    const other = new SrtpSession({ keys: keysFor(profile, rand), profile });
    t.equal(
      ours.decrypt(other.encrypt(Buffer.alloc(50), header(1, ssrc, false, false))),
      undefined,
      'another key',
    );
    t.equal(ours.decrypt(first.subarray(0, 11)), undefined, 'shorter than a header');
    t.equal(ours.decrypt(first.subarray(0, 20)), undefined, 'shorter than header + tag');
    const badExt = Buffer.from(first);
    badExt[0] = (badExt[0] as number) | 0x10; // claims an extension block the bytes do not hold
    badExt.writeUInt16BE(0xffff, 14);
    t.equal(ours.decrypt(badExt), undefined, 'an extension longer than the packet');
    // The ROC was not moved by the forgeries: a genuine packet from before the wrap still decrypts.
    const late = sender.encrypt(Buffer.alloc(100, 3), header(65534, ssrc, false, false));
    t.ok(ours.decrypt(late) !== undefined, 'state intact: a late packet at 65534 (ROC 0) decrypts');
  });

  t.test(`profile ${profile}: replays dropped before decryption, late packets taken once`, async (t) => {
    const rand = prng(0x4e9 + profile);
    const keys = keysFor(profile, rand);
    const sender = new SrtpSession({ keys, profile });
    const ours = srtpReceiveState(new SrtpSession({ keys, profile }))!;
    const ssrc = 0x7777_0001;
    /** The datagram for `seq` (kept: decryption is in place, so a replay is a copy of what was sent). */
    const packets = new Map<number, Buffer>();
    const send = (seq: number) => {
      let p = packets.get(seq);
      if (p === undefined) {
        p = sender.encrypt(randomBytes(rand, 200), header(seq, ssrc, false, seq % 2 === 0));
        packets.set(seq, p);
      }
      return ours.decrypt(Buffer.from(p));
    };
    // Around the wrap: 65530 … 65535, 0 … 4, with 65534 and 2 held back.
    for (const seq of [65530, 65531, 65532, 65533, 65535, 0, 1, 3, 4]) {
      t.ok(send(seq) !== undefined, `seq ${seq} decrypts`);
    }
    t.equal(send(4), undefined, 'the newest packet again: a replay');
    t.equal(send(65531), undefined, 'one from before the wrap again: a replay');
    t.equal(ours.replayed, 2);
    t.ok(send(2) !== undefined, 'held-back 2 (late, inside the window) decrypts');
    t.ok(send(65534) !== undefined, 'held-back 65534 (late, across the wrap) decrypts');
    t.equal(send(2), undefined, 'and not twice');
    t.equal(send(65534), undefined);
    const replayed = Buffer.from(packets.get(3)!);
    const copy = Buffer.from(replayed);
    t.equal(ours.decrypt(replayed), undefined);
    t.ok(replayed.equals(copy), 'a replay is dropped before decryption: its bytes are untouched');
    // A forged packet with a fresh number marks nothing: the genuine one still decrypts.
    const genuine = sender.encrypt(randomBytes(rand, 80), header(5, ssrc, false, false));
    const forged = Buffer.from(genuine);
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
    t.equal(ours.decrypt(forged), undefined, 'forged seq 5: refused');
    t.ok(ours.decrypt(Buffer.from(genuine)) !== undefined, 'genuine seq 5 after it: decrypts');
    // Over a thousand packets later, 6 is older than the window and refused unread even though never seen.
    const six = sender.encrypt(randomBytes(rand, 80), header(6, ssrc, false, false));
    for (let seq = 7; seq < 7 + 1100; seq++) {
      send(seq);
    }
    const before = ours.replayed;
    t.equal(ours.decrypt(six), undefined, 'older than the 1,024-packet window: refused');
    t.equal(ours.replayed, before + 1, 'counted as a replay');
    t.ok(send(7 + 1100 - 1000) === undefined, 'a packet inside the window, seen: refused');
    t.ok(send(7 + 1100) !== undefined, 'the next new packet: decrypts');
  });
}

t.test('rtpHeaderLength: fixed header, CSRCs, extension; -1 when it does not fit', async (t) => {
  const rows: [string, number[], number][] = [
    ['12 bytes, no CSRC', [0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], 12],
    ['2 CSRCs', [0x82, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2], 20],
    ['2 CSRCs, bytes missing', [0x82, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1], -1],
    ['extension of 1 word', [0x90, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x10, 1, 0, 0], 20],
    ['extension header cut', [0x90, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde], -1],
    [
      'extension longer than the bytes',
      [0x90, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 2, 0, 0, 0, 0],
      -1,
    ],
    ['11 bytes', [0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0], -1],
  ];
  for (const [name, bytes, want] of rows) {
    t.equal(rtpHeaderLength(Uint8Array.from(bytes)), want, name);
  }
});
