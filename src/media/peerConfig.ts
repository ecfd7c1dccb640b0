/**
 * werift RTCPeerConnection configuration for one SFU peer: no STUN servers (werift's default is a public
 * one), the configured port range and bind address, BUNDLE only when the offer bundles (werift-notes
 * pitfall 8), fresh codec and header-extension objects per connection (werift mutates them).
 */
import { isIPv6 } from 'node:net';
import {
  useAbsSendTime,
  useAudioLevelIndication,
  useH264,
  useOPUS,
  useRepairedRtpStreamId,
  useSdesMid,
  useSdesRTPStreamId,
  useTransportWideCC,
  useVP8,
  type PeerConfig,
} from 'werift';
import type { MediaConfig } from '../config/types.js';

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
      video: [useVP8(), useH264()],
    },
    headerExtensions: {
      audio: [useSdesMid(), useAbsSendTime(), useTransportWideCC(), useAudioLevelIndication()],
      video: [
        useSdesMid(),
        useSdesRTPStreamId(),
        useRepairedRtpStreamId(),
        useAbsSendTime(),
        useTransportWideCC(),
      ],
    },
  };
}
