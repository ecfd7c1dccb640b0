/**
 * media/decryptedRtpTap on stand-in transports shaped like werift 0.24.4's: the plaintext of every decrypt
 * reaches the sink, and werift's handling of it is then skipped (the decrypt throws the shared
 * WERIFT_SKIPPED, an SrtpAuthenticationError werift drops on), for the SRTP session present when tapped and for
 * each one werift assigns later (an SRTP restart); tapping twice wraps once; a throwing sink still ends in the
 * skip, never in its own error; an authentication failure throws werift's error before the sink sees anything;
 * a transport of another shape is refused, not patched.
 */
import t from 'tap';
import { RtpHeader, SrtpAuthenticationError, SrtpSession, type RTCDtlsTransport } from 'werift';
import { receiveRtpDirect, tapDecryptedRtp, WERIFT_SKIPPED } from '../../../src/media/decryptedRtpTap.js';

class Session {
  constructor(readonly tag: number) {}
  decrypt = (data: Buffer): Buffer => {
    if (data[0] === 0xff) {
      throw new Error('SRTP authentication failed');
    }
    return Buffer.from([this.tag, ...data]);
  };
}

class Transport {
  srtp: Session | undefined;
  /** Packets werift would have gone on to parse and route. */
  weriftHandled = 0;
  constructor(s?: Session) {
    this.srtp = s;
  }
  /** werift's SRTP (re)start assigns the session here, and only here. */
  updateSrtpSession(s: Session): void {
    this.srtp = s;
  }
  /** What werift does per datagram: decrypt through the current session; an authentication error drops it. */
  receive(data: Buffer): 'handled' | 'dropped' {
    try {
      this.srtp!.decrypt(data);
    } catch (e) {
      if (e instanceof SrtpAuthenticationError) {
        return 'dropped';
      }
      throw e;
    }
    this.weriftHandled++;
    return 'handled';
  }
}

const asDtls = (x: object) => x as unknown as RTCDtlsTransport;

t.test('the sink sees each plaintext, for the current and every later session', async (t) => {
  const tr = new Transport(new Session(1));
  const seen: number[][] = [];
  t.equal(
    tapDecryptedRtp(asDtls(tr), (d) => seen.push([...d])),
    true,
  );
  t.equal(tr.receive(Buffer.from([7])), 'dropped', 'werift drops it after the sink');
  tr.updateSrtpSession(new Session(2)); // an SRTP restart
  t.equal(tr.receive(Buffer.from([8])), 'dropped');
  t.equal(tr.weriftHandled, 0, 'werift handled none of them');
  t.same(seen, [
    [1, 7],
    [2, 8],
  ]);
  t.equal(
    tapDecryptedRtp(asDtls(tr), (d) => seen.push([...d])),
    true,
    'tapping again is a no-op',
  );
  tr.receive(Buffer.from([9]));
  t.equal(seen.length, 3, 'one sink call per packet');
});

t.test('a session assigned after tapping an unstarted transport', async (t) => {
  const tr = new Transport();
  const seen: number[] = [];
  t.equal(
    tapDecryptedRtp(asDtls(tr), (d) => seen.push(d[1]!)),
    true,
  );
  t.equal(tr.srtp, undefined);
  tr.updateSrtpSession(new Session(3));
  tr.receive(Buffer.from([4]));
  t.same(seen, [4]);
});

t.test('failures: sink errors are contained, authentication errors reach werift', async (t) => {
  const tr = new Transport(new Session(1));
  tapDecryptedRtp(asDtls(tr), () => {
    throw new Error('sink bug');
  });
  t.equal(tr.receive(Buffer.from([5])), 'dropped', "a throwing sink's error does not reach werift");
  const plain = new Transport(new Session(1));
  const seen: number[] = [];
  tapDecryptedRtp(asDtls(plain), (d) => seen.push(d[1]!));
  t.throws(() => plain.srtp!.decrypt(Buffer.from([0xff])), /authentication/, 'a failure throws as before');
  t.same(seen, [], 'and never reaches the sink');
  t.throws(() => plain.srtp!.decrypt(Buffer.from([6])), WERIFT_SKIPPED, 'a good packet: the shared skip');
});

t.test('another shape is refused', async (t) => {
  t.equal(
    tapDecryptedRtp(asDtls({}), () => undefined),
    false,
    'no srtp property',
  );
  t.equal(
    tapDecryptedRtp(asDtls({ srtp: new Session(1) }), () => undefined),
    false,
    'no updateSrtpSession on its prototype chain',
  );
});

t.test('the transport object is not changed: its session stays a plain data property', async (t) => {
  const tr = new Transport(new Session(1));
  const keys = Object.keys(tr);
  tapDecryptedRtp(asDtls(tr), () => undefined);
  tr.updateSrtpSession(new Session(2));
  const desc = Object.getOwnPropertyDescriptor(tr, 'srtp');
  t.ok(desc !== undefined && 'value' in desc && desc.writable === true, 'srtp: a writable data property');
  t.same(Object.keys(tr), keys, 'no property added or removed');
  t.notOk(Object.hasOwn(tr, 'updateSrtpSession'), 'the method is wrapped on the class, not on the object');
  const other = new Transport(new Session(4));
  other.updateSrtpSession(new Session(5));
  t.equal(
    other.receive(Buffer.from([1])),
    'handled',
    'an untapped transport of the class: werift handles its packets',
  );
});

t.test('a real werift session: the SFU’s own SRTP decrypts, werift’s cipher is not used', async (t) => {
  const key = Buffer.alloc(16, 3);
  const salt = Buffer.alloc(12, 4);
  const keys = { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt };
  const sender = new SrtpSession({ keys, profile: 0x0007 });
  const session = new SrtpSession({ keys, profile: 0x0007 });
  let weriftDecrypts = 0;
  const remote = session.remoteContext as unknown as { decryptRtp: (b: Buffer) => unknown };
  const weriftDecrypt = remote.decryptRtp.bind(remote);
  remote.decryptRtp = (b: Buffer) => {
    weriftDecrypts++;
    return weriftDecrypt(b);
  };
  const tr = new Transport(session as unknown as Session);
  const seen: Buffer[] = [];
  t.ok(tapDecryptedRtp(asDtls(tr), (d) => seen.push(d)));
  const h = new RtpHeader({ payloadType: 96, sequenceNumber: 7, timestamp: 1, ssrc: 42, marker: true });
  const srtp = sender.encrypt(Buffer.from([1, 2, 3, 4]), h);
  t.equal(tr.receive(srtp), 'dropped', 'werift skips it');
  t.equal(seen.length, 1, 'the sink got it');
  t.same([...seen[0]!.subarray(12)], [1, 2, 3, 4], 'as plaintext');
  t.equal(weriftDecrypts, 0, 'werift’s own decryption never ran');
  const forged = Buffer.from(srtp);
  forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 0x80;
  t.equal(tr.receive(forged), 'dropped', 'a forgery throws werift’s error, which werift drops');
  t.equal(seen.length, 1, 'the forgery never reached the sink');

  const h2 = new RtpHeader({ payloadType: 96, sequenceNumber: 8, timestamp: 2, ssrc: 42, marker: true });
  t.equal(receiveRtpDirect(tr, sender.encrypt(Buffer.from([5, 6]), h2)), true, 'direct: ingested');
  t.same([...seen[1]!.subarray(12)], [5, 6], 'by the same sink, as plaintext');
  t.equal(receiveRtpDirect(tr, forged), false, 'direct: a forgery is refused');
  t.equal(receiveRtpDirect(tr, Buffer.from([0x80, 96, 0])), false, 'direct: too short for RTP');
  t.equal(seen.length, 2, 'neither reached the sink');
  t.equal(weriftDecrypts, 0, 'werift’s decryption never ran');
  const untapped = new Transport(new SrtpSession({ keys, profile: 0x0007 }) as unknown as Session);
  t.equal(receiveRtpDirect(untapped, srtp), undefined, 'untapped: no direct path');
});
