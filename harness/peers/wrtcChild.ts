/**
 * Child process that owns one real @roamhq/wrtc peer (wrtcReal.ts) for the proxy in wrtcPeer.ts: it runs the
 * requests it receives over IPC in order and relays the peer's candidates, data and state changes. libwebrtc
 * may crash this process at exit (node-webrtc issue #636); the parent kills it with SIGKILL anyway.
 */
import type { WrtcChildMessage, WrtcRequest } from './wrtcProtocol.js';
import { RealWrtcPeer } from './wrtcReal.js';

function post(msg: WrtcChildMessage): void {
  if (process.connected) {
    process.send?.(msg);
  }
}

const peer = new RealWrtcPeer();
let lastState = '';
peer.onChange(() => {
  const data = { connectionState: peer.connectionState(), dataChannelState: peer.dataChannelState() ?? null };
  const key = `${data.connectionState}/${data.dataChannelState ?? ''}`;
  if (key !== lastState) {
    lastState = key;
    post({ event: 'state', data });
  }
});
peer.onCandidate((c) => {
  post({ event: 'candidate', data: c });
});
peer.onData((text) => {
  post({ event: 'data', data: text });
});

async function run(req: WrtcRequest): Promise<unknown> {
  const a = req.args as never[];
  switch (req.method) {
    case 'createOffer':
      return peer.createOffer(a[0]!);
    case 'setRemoteDescription':
      return peer.setRemoteDescription(a[0]!);
    case 'createAnswer':
      return peer.createAnswer();
    case 'addIceCandidate':
      return peer.addIceCandidate(a[0]!);
    case 'sendData':
      peer.sendData(a[0]!);
      return undefined;
    case 'close':
      return peer.close();
  }
}

process.on('message', (msg: WrtcRequest) => {
  run(msg).then(
    (result) => {
      post({ id: msg.id, result: result ?? null });
    },
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      post({
        id: msg.id,
        error: { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) },
      });
    },
  );
});

// The parent is gone (or has let go of us): nothing left to serve.
process.on('disconnect', () => {
  process.exit(0);
});

post({ event: 'ready', data: null });
