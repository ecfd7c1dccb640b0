/**
 * srtpReceiveState: the receive path's own SRTP for a werift SRTP session — what it decrypts is what werift's
 * `SrtpSession.decrypt` returns, byte for byte (both profiles, header extensions and CSRCs, across a sequence
 * wrap with a late packet from before it, two SSRCs), decrypted in place (the result is the datagram's own
 * memory); a forged or malformed packet gives undefined and changes no rollover counter; the RTP header length
 * table.
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
      seqs.push(s & 0xffff);
    }
    seqs.splice(15, 0, 65533); // a late packet from before the wrap
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
