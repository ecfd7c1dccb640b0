/**
 * werift RTCPeerConnection configuration for one SFU peer: no STUN servers (werift's default is a public
 * one), the configured port range and bind address, BUNDLE only when the offer bundles (werift-notes
 * pitfall 8), fresh codec and header-extension objects per connection (werift mutates them).
 *
 * Media choices (werift-notes pitfalls 4, 6, 7): video codecs carry `nack`, `nack pli`, `ccm fir` and
 * `goog-remb`, with abs-send-time, so browsers use the REMB the SFU sends (receiver-side estimation) to
 * ramp up to their top simulcast layer; transport-cc is NOT negotiated (werift's TWCC feedback is malformed
 * and makes Chrome withhold its upper layers); no RTX / repaired-rtp-stream-id (werift drops simulcast RTX).
 */
import { isIPv6 } from 'node:net';
import {
  useAbsSendTime,
  useAudioLevelIndication,
  useH264,
  useOPUS,
  useSdesMid,
  useSdesRTPStreamId,
  useVP8,
  type PeerConfig,
} from 'werift';
import type { MediaConfig } from '../config/types.js';

/** A fresh codec with `ccm fir` added to werift's feedback list (FIR where a publisher prefers it). */
function withFir<T extends { rtcpFeedback: { type: string; parameter?: string }[] }>(codec: T): T {
  codec.rtcpFeedback = [...codec.rtcpFeedback, { type: 'ccm', parameter: 'fir' }];
  return codec;
}

export function peerConfig(media: MediaConfig, bundle: boolean): Partial<PeerConfig> {
  const bind = media.bind_address;
  const specific = bind !== '0.0.0.0' && bind !== '::';
  return {
    iceServers: [],
    icePortRange: [media.port_range.min, media.port_range.max],
    bundlePolicy: bundle ? 'max-bundle' : 'disable',
    // A specific bind address: gather on it alone. werift's interface filter ignores loopback addresses and
    // then falls back to every interface, so host gathering is switched off and the address added instead.
    ...(specific
      ? {
          iceAdditionalHostAddresses: [bind],
          iceInterfaceAddresses: isIPv6(bind) ? { udp6: bind } : { udp4: bind },
          iceUseIpv4: false,
          iceUseIpv6: false,
        }
      : {}),
    codecs: {
      audio: [useOPUS()],
      video: [withFir(useVP8()), withFir(useH264())],
    },
    headerExtensions: {
      audio: [useSdesMid(), useAbsSendTime(), useAudioLevelIndication()],
      video: [useSdesMid(), useSdesRTPStreamId(), useAbsSendTime()],
    },
  };
}
