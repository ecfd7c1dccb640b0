/**
 * werift RTCPeerConnection configuration for one SFU peer: no STUN servers (werift's default is a public
 * one), the configured port range and bind address, BUNDLE only when the offer bundles (werift-notes
 * pitfall 8), fresh codec and header-extension objects per connection (werift mutates them).
 */
import { isIPv4, isIPv6 } from 'node:net';
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
    ...(specific
      ? {
          iceAdditionalHostAddresses: [bind],
          iceInterfaceAddresses: isIPv6(bind) ? { udp6: bind } : { udp4: bind },
          iceUseIpv4: isIPv4(bind),
          iceUseIpv6: isIPv6(bind),
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
