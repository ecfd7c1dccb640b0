/**
 * The RTP receive wiring of one peer connection: one ingest demux (ingest.ts) per receiving DTLS transport
 * (one with BUNDLE), fed with werift's decrypted RTP (decryptedRtpTap.ts), and each receiving m-line bound to
 * its published track there (MID/RID learning, signalled SSRCs, the negotiated extension ids). werift's own
 * receive-side NACK generator is switched off on every bound receiver (werift-notes pitfall 3: it floods
 * simulcast publishers); the rest of werift's receive handling (statistics, receiver reports) is untouched.
 */
import type { Logger } from 'pino';
import type { RTCRtpTransceiver } from 'werift';
import { EXT_URI } from '../rtp/headerExtensions.js';
import { tapDecryptedRtp } from './decryptedRtpTap.js';
import { IngestDemux, type IngestTarget } from './ingest.js';
import type { MediaCounters } from './mediaMetrics.js';

type Dtls = RTCRtpTransceiver['receiver']['dtlsTransport'];

/** werift 0.24.4's receive-side NACK handler (an instance property of the receiver). */
interface NackOwner {
  nack?: { addPacket: (p: unknown) => void };
}

export class ReceiveWiring {
  readonly #counters: MediaCounters;
  readonly #log: Logger;
  readonly #ingests = new Map<Dtls, IngestDemux>();
  readonly #neutralised = new WeakSet<object>();

  constructor(counters: MediaCounters, log: Logger) {
    this.#counters = counters;
    this.#log = log;
  }

  /** Routes a receiving m-line's packets to `target` (again after each renegotiation). */
  bind(tr: RTCRtpTransceiver, target: IngestTarget, rids: readonly string[], ssrcs: readonly number[]): void {
    const ingest = this.ingest(tr.receiver.dtlsTransport);
    const idOf = (uri: string) => tr.headerExtensions.find((e) => e.uri === uri)?.id;
    ingest.setExtensionIds(idOf(EXT_URI.mid), idOf(EXT_URI.rid));
    ingest.bind(tr.mid ?? '', target, rids, ssrcs);
    const r = tr.receiver as unknown as NackOwner;
    if (!this.#neutralised.has(r)) {
      this.#neutralised.add(r);
      if (r.nack !== undefined) {
        r.nack.addPacket = () => undefined; // our own NACK generator replaces werift's (pitfall 3)
      }
    }
  }

  unbind(tr: RTCRtpTransceiver, target: IngestTarget): void {
    this.#ingests.get(tr.receiver.dtlsTransport)?.unbind(target);
  }

  /** The ingest demux of a transport, created (and werift's decrypted RTP tapped) on first use. */
  ingest(dtls: Dtls): IngestDemux {
    let ingest = this.#ingests.get(dtls);
    if (ingest === undefined) {
      const demux = new IngestDemux(this.#counters, this.#log);
      ingest = demux;
      this.#ingests.set(dtls, demux);
      const ok = tapDecryptedRtp(
        dtls,
        (dec) => {
          demux.receive(dec);
        },
        (data, overhead) => demux.skip(data, overhead),
      );
      if (!ok) {
        this.#log.error('cannot tap decrypted RTP on this werift version: nothing is received');
      }
    }
    return ingest;
  }

  clear(): void {
    this.#ingests.clear();
  }
}
