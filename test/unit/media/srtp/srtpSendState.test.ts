/**
 * srtpSendState: the send path's own SRTP for a werift SRTP session — the datagram it writes is werift's
 * `SrtpSession.encrypt` byte for byte (both profiles, across a sequence wrap, a retransmission from before it,
 * two SSRCs interleaved), one state per session object, null (werift encrypts) when the keys cannot be read or
 * the profile is unknown, and the per-SSRC rollover counters bounded; written into a send slab or not, built in
 * place or not, with or without a view of the slab, the SSRC unsigned or int32: the same bytes.
 */
import t from 'tap';
import { RtpHeader, SrtpSession } from 'werift';
import { SrtpSendState, srtpSendState } from '../../../../src/media/srtp/srtpSendState.js';
import { MAX_SSRCS } from '../../../../src/media/srtp/ssrcTable.js';
import { createSrtpCipher } from '../../../../src/media/srtp/createSrtpCipher.js';
import { WireRtpHeader } from '../../../../src/rtp/rtpHeader.js';
import { SendSlab } from '../../../../src/media/sendSlab.js';
import { prng, randomBytes } from './impls.js';

const PROFILES = [0x0001, 0x0007];

for (const profile of PROFILES) {
  t.test(`profile ${profile}: the datagram is werift's, across the wrap and for two SSRCs`, async (t) => {
    const rand = prng(0x5e4d + profile);
    const key = randomBytes(rand, 16);
    const salt = randomBytes(rand, profile === 0x0007 ? 12 : 14);
    const keys = { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt };
    const session = new SrtpSession({ keys, profile });
    const reference = new SrtpSession({ keys, profile });
    const state = srtpSendState(session);
    t.ok(state !== null, 'keys read from the session');
    t.equal(srtpSendState(session), state, 'one state per session object');
    const seqs: number[] = [];
    for (let s = 65520; s < 65536 + 20; s++) {
      seqs.push(s & 0xffff);
    }
    seqs.push(65530); // a retransmission from before the wrap
    let same = 0;
    const slab = new SendSlab(4096); // small: it moves to a new buffer during the run
    for (const seq of seqs) {
      for (const ssrc of [0x1111_2222, 0xb333_4444]) {
        const payload = randomBytes(rand, 20 + Math.floor(rand() * 1200));
        const wire = new WireRtpHeader({
          payloadType: 96,
          sequenceNumber: seq,
          timestamp: seq * 3000,
          ssrc,
          marker: seq % 3 === 0,
          extensions: [{ id: 1, payload: Buffer.from([seq & 0xff, 2, 3]) }],
        });
        // Header + payload (every other one into a slab), built in place (`encryptPacket`), or into the slab
        // without a view (`encryptPacketAt`); the SSRC given unsigned or as int32 (the ROC is one per SSRC
        // either way, across the wrap): the same bytes every way.
        // (the int32 form first after the wrap: a table keyed by the form given would start it at ROC 0)
        const ssrcArg = seq < 32768 && seq % 2 === 1 ? ssrc | 0 : ssrc;
        let mine: Buffer;
        const way = seq % 3;
        if (way === 0) {
          mine = state!.encrypt(wire.bytes, payload, ssrcArg, seq, seq % 2 === 0 ? slab : undefined);
        } else {
          const built = Buffer.concat([Buffer.alloc(5), wire.bytes, payload]); // at an offset
          if (way === 1) {
            mine = state!.encryptPacket(built, 5, wire.bytes.length, payload.length, ssrcArg, seq);
          } else {
            const at = state!.encryptPacketAt(
              built,
              5,
              wire.bytes.length,
              payload.length,
              ssrcArg,
              seq,
              slab,
            );
            const len = wire.bytes.length + payload.length + state!.cipher.rtpOverhead;
            mine = Buffer.from(slab.buffer.subarray(at, at + len));
          }
        }
        const theirs = reference.encrypt(payload, RtpHeader.deSerialize(wire.bytes));
        if (mine.equals(theirs)) {
          same++;
        } else {
          t.fail(`seq ${seq} ssrc ${ssrc.toString(16)} differs`);
        }
      }
    }
    t.equal(same, seqs.length * 2, `${same} datagrams byte-identical to werift's`);
  });
}

t.test('no state when the session’s keys cannot be read or its profile is unknown', async (t) => {
  t.equal(srtpSendState({}), null, 'no local context');
  t.equal(
    srtpSendState({
      localContext: { masterKey: Buffer.alloc(16), masterSalt: Buffer.alloc(14), profile: 0x0099 },
    }),
    null,
    'an unknown profile',
  );
  t.equal(
    srtpSendState({
      localContext: { masterKey: Buffer.alloc(5), masterSalt: Buffer.alloc(14), profile: 0x0001 },
    }),
    null,
    'a key of the wrong length',
  );
});

t.test('rollover counters: per SSRC, bounded, the oldest forgotten first', async (t) => {
  const s = new SrtpSendState(createSrtpCipher(0x0001, Buffer.alloc(16, 1), Buffer.alloc(14, 2)));
  t.equal(s.roc(1, 65535), 0);
  t.equal(s.roc(1, 0), 1, 'the wrap counts');
  t.equal(s.roc(1, 65534), 0, 'a packet from before the wrap keeps its ROC');
  t.equal(s.roc(2, 5), 0, 'another SSRC has its own');
  for (let ssrc = 3; ssrc < MAX_SSRCS + 2; ssrc++) {
    s.roc(ssrc, 1);
  }
  t.equal(s.roc(2, 6), 0, 'SSRC 2 kept');
  t.equal(s.roc(1, 1), 0, 'SSRC 1 (the oldest) was forgotten: it starts again at ROC 0');
});
