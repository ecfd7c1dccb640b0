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

// The high-level API: join a call in a browser (join.ts, call.ts) and its parts.
export { joinCall, STICKY_FEATURE, type JoinCallOptions } from './join.js';
export { Call, type ActiveSpeaker, type CallEnd, type CallEvents, type CallParts } from './call.js';
export {
  BrowserPeer,
  SIMULCAST_ENCODINGS,
  msidByMid,
  withoutCandidates,
  type BrowserPeerOptions,
  type FrameTransforms,
  type RemoteTrack,
} from './browserPeer.js';
export {
  CallEndedError,
  CallError,
  CallPermissionError,
  DataChannelError,
  FocusRefusedError,
  FocusRequestError,
  FocusTimeoutError,
  HomeserverUnreachableError,
  LeaveError,
  LoginError,
  MediaAccessError,
  MediaConnectionError,
  MembershipError,
  NoFocusError,
  PublishError,
  RoomJoinError,
  type CallStep,
} from './errors.js';
export {
  RTC_FOCI_KEY,
  WELL_KNOWN_CLIENT_PATH,
  discoverFocus,
  focusProblem,
  parseRtcFoci,
  type DiscoveredFocus,
  type FociParse,
} from './focusDiscovery.js';
export { getLocalMedia, mediaFailure, type LocalMediaOptions } from './localMedia.js';
export { loginWithPassword, type Credentials, type PasswordLogin, type TokenLogin } from './login.js';
export {
  participantsFrom,
  type Participant,
  type RemoteStream,
  type RemoteTrackInfo,
} from './participants.js';
export { Publishing, type PublishingOptions, type PublishingPeer } from './publishing.js';
export { DEFAULT_COALESCE_MS, Subscriptions, dimension, type TileSize } from './subscriptions.js';
export type * from './webrtcTypes.js';
