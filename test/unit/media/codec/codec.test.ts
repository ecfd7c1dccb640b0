/**
 * media/codec: the chooser maps MIME types (any case) to one handler each, unknown ones to the null handler;
 * what each handler reads from a payload at an offset inside a larger buffer (VP8 descriptor, keyframe, frame
 * size; H.264 keyframes; audio never a keyframe), which subscriber codec each picks (H.264 by packetization
 * mode), and the VP8 rewrite in the subscriber's copy (the publisher's bytes untouched).
 */
import t from 'tap';
import { chooseCodecHandler } from '../../../../src/media/codec/chooser.js';
import type { PayloadFacts } from '../../../../src/media/codec/handler.js';
import { parseVp8Descriptor } from '../../../../src/rtp/vp8.js';

function facts(): PayloadFacts {
  return { keyframe: true, vp8: undefined, size: { width: 1, height: 1 } };
}

/** `payload` placed at offset 5 of a buffer with junk around it. */
function framed(payload: number[]): { buf: Uint8Array; offset: number; length: number } {
  return { buf: Uint8Array.from([7, 7, 7, 7, 7, ...payload, 0x65, 0x65]), offset: 5, length: payload.length };
}

const VP8_KEY = [0x90, 0x80, 0x80, 0x01, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02];
const VP8_DELTA = [0x90, 0x80, 0x80, 0x02, 0x11, 0x02, 0x00];

t.test('the chooser: one handler per MIME type, case-insensitive, null for the rest', async (t) => {
  const rows: [string, string][] = [
    ['video/VP8', 'vp8'],
    ['video/vp8', 'vp8'],
    ['video/H264', 'h264'],
    ['audio/opus', 'opus'],
    ['audio/OPUS', 'opus'],
    ['video/VP9', 'null'],
    ['video/rtx', 'null'],
    ['', 'null'],
  ];
  for (const [mime, name] of rows) {
    t.equal(chooseCodecHandler(mime).name, name, mime);
  }
});

t.test(
  'VP8: descriptor, keyframe and size at an offset; malformed; delta; one descriptor object per facts',
  async (t) => {
    const vp8 = chooseCodecHandler('video/VP8');
    const f = facts();
    const key = framed(VP8_KEY);
    t.equal(vp8.inspect(key.buf, key.offset, key.length, f), true);
    t.equal(f.keyframe, true);
    t.equal(f.vp8?.pictureId, 1);
    t.equal(f.vp8?.pictureIdBits, 15);
    t.same(f.size, { width: 1280, height: 720 }, 'frame size from the keyframe header');
    const first = f.vp8;
    const delta = framed(VP8_DELTA);
    t.equal(vp8.inspect(delta.buf, delta.offset, delta.length, f), true);
    t.equal(f.vp8, first, 'the same descriptor object, parsed into again (none made per packet)');
    t.equal(f.keyframe, false);
    t.equal(f.size, undefined, 'no size left over from the previous packet');
    t.equal(f.vp8?.pictureId, 2);
    const cut = framed([0x90]); // X set, extension byte missing
    t.equal(vp8.inspect(cut.buf, cut.offset, cut.length, f), false, 'truncated descriptor: malformed');
    t.equal(f.vp8, undefined);
    t.equal(f.keyframe, false);
    const keyCut = framed(VP8_KEY.slice(0, 11)); // keyframe, size bytes past the payload end
    t.equal(vp8.inspect(keyCut.buf, keyCut.offset, keyCut.length, f), true);
    t.equal(f.keyframe, true);
    t.equal(f.size, undefined, 'the size is never read past the payload');
  },
);

t.test('VP8 rewrite: in the subscriber copy at its offset, only the fields asked for', async (t) => {
  const vp8 = chooseCodecHandler('video/VP8');
  const bytes = [0x90, 0xc0, 0x80, 0x01, 0x05, 0x10, 0x02]; // I + L: pid 15-bit 1, tl0 5
  const payload = Buffer.from(bytes);
  const f = facts();
  vp8.inspect(payload, 0, payload.length, f);
  // The subscriber's packet: 12 header bytes (left alone) then its copy of the payload.
  const packet = Buffer.concat([Buffer.alloc(12, 0xee), payload]);
  vp8.rewrite(packet, 12, f, {});
  t.same([...packet.subarray(12)], bytes, 'nothing asked: the copy unchanged');
  vp8.rewrite(packet, 12, f, { pictureId: 0x1234, tl0PicIdx: 0x1ff });
  t.same([...payload], bytes, 'the publisher bytes are untouched');
  t.same([...packet.subarray(0, 12)], new Array(12).fill(0xee), 'nothing before the offset is written');
  const d = parseVp8Descriptor(packet.subarray(12));
  t.equal(d?.pictureId, 0x1234);
  t.equal(d?.tl0PicIdx, 0xff, 'TL0PICIDX mod 256');
  t.same([...packet.subarray(17)], [0x10, 0x02], 'the bytes after the descriptor fields are untouched');
  const onlyPid = Buffer.from(payload);
  vp8.rewrite(onlyPid, 0, f, { pictureId: 7 });
  t.equal(parseVp8Descriptor(onlyPid)?.tl0PicIdx, 5, 'TL0PICIDX kept when only the picture id is rewritten');
  t.equal(parseVp8Descriptor(onlyPid)?.pictureId, 7);
});

t.test('H.264: keyframes at an offset, never past the payload', async (t) => {
  const h264 = chooseCodecHandler('video/H264');
  const f = facts();
  const rows: [string, number[], boolean][] = [
    ['IDR', [0x65, 0x88], true],
    ['SPS', [0x67, 0x42], true],
    ['non-IDR', [0x41, 0x9a], false],
    ['FU-A start of IDR', [0x7c, 0x85, 0], true],
    ['FU-A middle of IDR', [0x7c, 0x05, 0], false],
    ['STAP-A with SPS', [0x78, 0, 2, 0x67, 0x42], true],
    ['STAP-A cut before the NAL', [0x78, 0, 2], false],
  ];
  for (const [name, bytes, key] of rows) {
    const p = framed(bytes);
    t.equal(h264.inspect(p.buf, p.offset, p.length, f), true, name);
    t.equal(f.keyframe, key, `${name}: keyframe ${key}`);
    t.equal(f.vp8, undefined);
    t.equal(f.size, undefined);
  }
});

t.test('audio and unknown codecs: never a keyframe, never rewritten', async (t) => {
  for (const mime of ['audio/opus', 'video/VP9']) {
    const h = chooseCodecHandler(mime);
    const f = facts();
    const p = framed(VP8_KEY);
    t.equal(h.inspect(p.buf, p.offset, p.length, f), true);
    t.same(f, { keyframe: false, vp8: undefined, size: undefined }, mime);
    const payload = Buffer.from([1, 2]);
    h.rewrite(payload, 0, f, { pictureId: 3 });
    t.same([...payload], [1, 2], `${mime}: nothing rewritten`);
  }
});

t.test('the subscriber codec each handler picks', async (t) => {
  const sub = [
    { payloadType: 111, mimeType: 'audio/opus' },
    { payloadType: 96, mimeType: 'video/VP8' },
    { payloadType: 97, mimeType: 'video/VP8' },
    {
      payloadType: 102,
      mimeType: 'video/H264',
      parameters: 'level-asymmetry-allowed=1;packetization-mode=1',
    },
    { payloadType: 103, mimeType: 'video/H264', parameters: 'packetization-mode=0' },
  ];
  const pick = (mime: string, parameters?: string) =>
    chooseCodecHandler(mime).pick({ payloadType: 120, mimeType: mime, parameters }, sub)?.payloadType;
  t.equal(pick('video/vp8'), 96, 'VP8: the first VP8, case-insensitive');
  t.equal(pick('audio/OPUS'), 111);
  t.equal(pick('video/H264', 'packetization-mode=1;profile-level-id=42e01f'), 102, 'H.264 mode 1');
  t.equal(pick('video/H264', 'profile-level-id=42e01f'), 103, 'H.264: absent mode is 0');
  t.equal(pick('video/H264', 'packetization-mode=2'), 102, 'no same mode: the first H.264');
  t.equal(pick('video/VP9'), undefined, 'a codec the subscriber lacks');
  t.equal(
    chooseCodecHandler('video/VP8').pick({ payloadType: 96, mimeType: 'video/VP8' }, []),
    undefined,
    'no codecs at all',
  );
});
