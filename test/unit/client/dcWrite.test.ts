// The frames the client sends on the data channel (client/dc/write.ts) have the shapes of protocol.md §5.2.
import t from 'tap';
import {
  aliveFrame,
  connectFrame,
  metadataFrame,
  publishFrame,
  sdpFrame,
  subscribeFrame,
  unpublishFrame,
  unsubscribeFrame,
} from '../../../client/dc/write.js';

const parse = (s: string): unknown => JSON.parse(s);
const bobV = { stream_id: 'bob-s', track_id: 'bob-v', width: 640, height: 360 };
const meta = { 'alice-s': { purpose: 'm.usermedia', tracks: { 'alice-a': { kind: 'audio' } } } };

t.test('dialect A: op messages with the optional id', async (t) => {
  t.same(parse(subscribeFrame('A', [bobV], '7')), { op: 'subscribe', id: '7', start: [bobV] });
  t.same(parse(unsubscribeFrame('A', [bobV])), { op: 'unsubscribe', stop: [bobV] });
  t.same(parse(sdpFrame('A', 'answer', 'v=0', { id: 'sfu-3' })), { op: 'answer', id: 'sfu-3', sdp: 'v=0' });
  t.same(parse(sdpFrame('A', 'offer', 'v=0', { metadata: meta })), {
    op: 'offer',
    sdp: 'v=0',
    metadata: meta,
  });
  t.same(parse(metadataFrame('A', meta, '5')), { op: 'metadata', id: '5', metadata: meta });
  t.same(parse(aliveFrame('A')), { op: 'alive' });
  t.same(parse(connectFrame('A', [{ user_id: '@sfu:o', device_id: 'D' }], '12')), {
    op: 'connect',
    id: '12',
    foci: [{ user_id: '@sfu:o', device_id: 'D' }],
  });
  t.same(parse(publishFrame('v=0', meta, '9')), { op: 'publish', id: '9', sdp: 'v=0', metadata: meta });
  t.same(parse(unpublishFrame([bobV], undefined, '10')), { op: 'unpublish', id: '10', stop: [bobV] });
  t.same(parse(unpublishFrame([bobV], 'v=0')), { op: 'unpublish', stop: [bobV], sdp: 'v=0' });
});

t.test('dialect B: matrix-js-sdk events, no ids, metadata under the stable key', async (t) => {
  t.same(parse(subscribeFrame('B', [bobV], '7')), {
    type: 'm.call.track_subscription',
    content: { subscribe: [bobV] },
  });
  t.same(parse(unsubscribeFrame('B', [bobV])), {
    type: 'm.call.track_subscription',
    content: { unsubscribe: [bobV] },
  });
  t.same(parse(sdpFrame('B', 'answer', 'v=0', { id: 'ignored', metadata: meta })), {
    type: 'm.call.negotiate',
    content: { description: { type: 'answer', sdp: 'v=0' }, sdp_stream_metadata: meta },
  });
  t.same(
    parse(sdpFrame('B', 'offer', 'v=0')),
    {
      type: 'm.call.negotiate',
      content: { description: { type: 'offer', sdp: 'v=0' }, sdp_stream_metadata: {} },
    },
    'B always attaches the client’s metadata',
  );
  t.same(parse(metadataFrame('B', meta)), {
    type: 'm.call.sdp_stream_metadata_changed',
    content: { sdp_stream_metadata: meta },
  });
  t.same(parse(aliveFrame('B')), { type: 'm.call.pong', content: {} });
  t.same(parse(connectFrame('B', [{ user_id: '@sfu:o', device_id: 'D' }])), {
    type: 'org.matrix.msc3898.connect',
    content: { foci: [{ user_id: '@sfu:o', device_id: 'D' }] },
  });
});
