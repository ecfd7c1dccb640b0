/**
 * The protocol client: a Matrix device joining a conference through an MSC3898 focus (docs/protocol.md), in Node
 * or a browser. It brings no WebRTC stack: give it a `CallPeer`. See README.md in this folder.
 */
export { CallClient, type CallClientOptions } from './callClient.js';
export {
  CallExchange,
  type CallState,
  type ExchangeRecord,
  type InviteOptions,
  type ToDeviceEvent,
} from './callExchange.js';
export * as dc from './dc/index.js';
export { HANGUP_REASONS, checkBase, checkHangup, checkMetadata } from './focusChecks.js';
export { newCallId, randomHex, randomToken } from './ids.js';
export {
  ClientClosedError,
  MatrixApi,
  MatrixHttp,
  MatrixRequestError,
  RequestTimeoutError,
  type FetchLike,
  type RequestOptions,
} from './matrix.js';
export {
  CALL_MEMBER_TYPE,
  DEFAULT_MEMBERSHIP_EXPIRES_MS,
  FOCUS_TYPE,
  formatC,
  memberStateKey,
  type FocusRef,
  type MemberIdentity,
  type MembershipOptions,
  type MembershipWrite,
  type MembershipWriter,
} from './membership.js';
export {
  DEFAULT_STICKY_MS,
  RTC_MEMBER_TYPE,
  STICKY_PARAM,
  formatD,
  newMemberId,
  stickyMemberContent,
} from './membershipD.js';
export {
  METADATA_KEY,
  METADATA_KEY_STABLE,
  metadataFromSdp,
  type StreamInfo,
  type StreamMetadata,
  type TrackInfo,
} from './metadata.js';
export type { CallPeer, LocalCandidate, OfferOptions, RemoteCandidate } from './peer.js';
export { SYNC_POLL_MS, SyncLoop } from './sync.js';
