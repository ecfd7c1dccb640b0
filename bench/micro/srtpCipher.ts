/**
 * Micro-benchmark: SRTP per packet (1,150-B payload, 24-B header: 12 fixed + a one-byte-header extension block
 * of 8) for both profiles, encrypt and decrypt, through the native add-on (media/srtp, into a caller-owned
 * buffer), the TypeScript SRTP (node:crypto, one cipher object per packet) and werift's SrtpSession (its
 * encrypt serializes a werift RtpHeader; its decrypt parses one). CPU µs per packet (user + system), median
 * of 7 rounds of 20,000, the ways alternating. The native column is empty when the add-on is not built.
 * `node --import @tapjs/typescript/import bench/micro/srtpCipher.ts`
 */
import { RtpHeader, SrtpSession } from 'werift';
import { createSrtpCipher } from '../../src/media/srtp/createSrtpCipher.js';
import { nativeSrtp } from '../../src/media/srtp/nativeSrtp.js';
import type { SrtpCipher } from '../../src/media/srtp/srtpCipher.js';
import {
  SRTP_AEAD_AES_128_GCM,
  SRTP_AES128_CM_HMAC_SHA1_80,
  srtpLengths,
  type SrtpProfile,
} from '../../src/media/srtp/srtpProfile.js';

const N = 20_000;
const ROUNDS = 7;
const PAYLOAD = 1150;

const header = new RtpHeader({
  payloadType: 96,
  sequenceNumber: 4711,
  timestamp: 123_456,
  ssrc: 0x1122_3344,
  marker: true,
  extension: true,
  extensions: [
    { id: 1, payload: Buffer.from([1]) },
    { id: 3, payload: Buffer.from([1, 2, 3]) },
  ],
});
const hdr = header.serialize(header.serializeSize);
if (hdr.length !== 24) {
  throw new Error(`the header is ${hdr.length} bytes, not 24`);
}
const payload = Buffer.alloc(PAYLOAD, 7);
const plain = Buffer.concat([hdr, payload]);

type Way = 'native' | 'ts' | 'werift';
type Op = 'encrypt' | 'decrypt';

function cpuMicros(f: () => void): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    f();
  }
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / N;
}

function runs(profile: SrtpProfile): Map<string, () => void> {
  const key = Buffer.alloc(16, 0x5a);
  const salt = Buffer.alloc(srtpLengths(profile).salt, 0xa5);
  const werift = new SrtpSession({
    keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt },
    profile,
  });
  const out = Buffer.alloc(plain.length + 16);
  const back = Buffer.alloc(plain.length + 16);
  const srtp = werift.encrypt(payload, header);
  const ways = new Map<string, () => void>();
  const add = (way: Way, c: SrtpCipher) => {
    ways.set(`${way} encrypt`, () => c.encryptRtp(plain, 0, hdr.length, PAYLOAD, 0, out, 0));
    ways.set(`${way} decrypt`, () => {
      if (c.decryptRtp(srtp, 0, srtp.length, hdr.length, 0, back, 0) < 0) {
        throw new Error(`${way} did not decrypt werift's packet`);
      }
    });
  };
  if (nativeSrtp().binding !== undefined) {
    add('native', createSrtpCipher(profile, key, salt, { native: true }));
  }
  add('ts', createSrtpCipher(profile, key, salt, { native: false }));
  ways.set('werift encrypt', () => werift.encrypt(payload, header));
  ways.set('werift decrypt', () => werift.decrypt(srtp));
  return ways;
}

const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
const result: Record<string, Record<string, number>> = {};
for (const [name, profile] of [
  ['AEAD_AES_128_GCM', SRTP_AEAD_AES_128_GCM],
  ['AES_CM_128_HMAC_SHA1_80', SRTP_AES128_CM_HMAC_SHA1_80],
] as const) {
  const ways = runs(profile);
  const samples = new Map<string, number[]>([...ways.keys()].map((k) => [k, []]));
  for (const f of ways.values()) {
    cpuMicros(f); // warm up
  }
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [...ways] : [...ways].reverse();
    for (const [k, f] of order) {
      samples.get(k)!.push(cpuMicros(f));
    }
  }
  result[name] = Object.fromEntries([...samples].map(([k, v]) => [k, Math.round(median(v) * 100) / 100]));
}

const cell = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(2)).padStart(8);
const lines = ['profile                  op        native      ts  werift   (CPU µs per packet)'];
for (const [name, r] of Object.entries(result)) {
  for (const op of ['encrypt', 'decrypt'] as Op[]) {
    lines.push(
      `${name.padEnd(24)} ${op.padEnd(7)} ${(['native', 'ts', 'werift'] as Way[]).map((w) => cell(r[`${w} ${op}`])).join('')}`,
    );
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
process.stdout.write(
  `${JSON.stringify({ microsecondsPerPacket: result, rounds: ROUNDS, packets: N, payload: PAYLOAD })}\n`,
);
