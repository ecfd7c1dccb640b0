/**
 * The call page's settings from the URL fragment (never sent to any server): `hs` (homeserver URL), `user`,
 * `password` or `token` (+ `device` for a token), `room` (id or alias), `key` (end-to-end encryption), `format` (membership: c, d, auto), plus the
 * defaults the SFU serves (`call/config.json`). Pure.
 */

export interface PageDefaults {
  readonly homeserverUrl?: string;
  readonly room?: string;
  readonly focus?: { readonly user_id: string; readonly device_id: string };
}

export interface PageParams {
  hs: string;
  user: string;
  password: string;
  token: string;
  device: string;
  room: string;
  key: string;
  /** Membership format: `c`, `d` or `auto` (default: `d` where the homeserver announces MSC4354). */
  format: 'c' | 'd' | 'auto';
}

/** `#a=1&b=2` → settings; unknown keys are ignored, missing ones are ''. */
export function parseFragment(hash: string, defaults: PageDefaults = {}): PageParams {
  const q = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const get = (k: string): string => (q.get(k) ?? '').trim();
  return {
    hs: get('hs') || (defaults.homeserverUrl ?? ''),
    user: get('user'),
    password: get('password'),
    token: get('token'),
    device: get('device'),
    room: get('room') || (defaults.room ?? ''),
    key: get('key'),
    format: get('format') === 'c' || get('format') === 'd' ? (get('format') as 'c' | 'd') : 'auto',
  };
}

/** What is missing before the page can join (empty: ready). */
export function missing(p: PageParams): string[] {
  const out: string[] = [];
  if (!/^https?:\/\/./.test(p.hs)) {
    out.push('homeserver URL');
  }
  if (p.user === '') {
    out.push('user');
  }
  if (p.password === '' && p.token === '') {
    out.push('password');
  }
  if (p.room === '') {
    out.push('room');
  }
  return out;
}

/** A fully qualified user id from what was typed: `alice` on `https://hs.example` stays a localpart for login. */
export function displayName(userId: string): string {
  const m = /^@([^:]+):/.exec(userId);
  return m?.[1] ?? userId;
}
