/**
 * Feedback packets a test client (or a bench flooder) sends, written here from RFC 4585 rather than with the
 * SFU's own encoder, so a test of the SFU's reader does not share its writer's mistakes.
 */

/** A generic NACK from `sender` naming `count` sequence numbers of `media` from `first` (17 per FCI entry). */
export function nackPacket(sender: number, media: number, first: number, count: number): Buffer {
  const entries = Math.ceil(count / 17);
  const b = Buffer.alloc(12 + 4 * entries);
  b[0] = 0x81;
  b[1] = 205;
  b.writeUInt16BE(2 + entries, 2);
  b.writeUInt32BE(sender >>> 0, 4);
  b.writeUInt32BE(media >>> 0, 8);
  for (let i = 0; i < entries; i++) {
    b.writeUInt16BE((first + i * 17) & 0xffff, 12 + 4 * i);
    b.writeUInt16BE(0xffff, 14 + 4 * i);
  }
  return b;
}

/** A PLI from `sender` for `media`. */
export function pliPacket(sender: number, media: number): Buffer {
  const b = Buffer.alloc(12);
  b[0] = 0x81;
  b[1] = 206;
  b.writeUInt16BE(2, 2);
  b.writeUInt32BE(sender >>> 0, 4);
  b.writeUInt32BE(media >>> 0, 8);
  return b;
}
