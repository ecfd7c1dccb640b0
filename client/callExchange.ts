/**
 * The to-device call exchange with a focus (protocol.md §4): out, `m.call.invite` with the offer and MSC3077
 * metadata, then the peer's candidates as batched `m.call.candidates` ending with `{candidate: ""}`,
 * `m.call.select_answer`, `m.call.negotiate`, `m.call.hangup`, all through one FIFO (the invite always precedes its
 * candidates); in, the focus's answer, candidates, negotiate answers and hangups for our calls, applied to the peer
 * after the checks of focusChecks.ts.
 */
import { candidateOf, checkBase, checkHangup, checkMetadata, descriptionOf } from './focusChecks.js';
import { describeError, isObject, newCallId } from './ids.js';
import type { MatrixApi } from './matrix.js';
import type { FocusRef } from './membership.js';
import { METADATA_KEY, metadataFromSdp } from './metadata.js';
import type { CallPeer } from './peer.js';
import type { CallState, ExchangeRecord, InviteOptions, ToDeviceEvent } from './callTypes.js';
import { CandidateBatch } from './candidateBatch.js';

export type { CallState, ExchangeRecord, InviteOptions, ToDeviceEvent } from './callTypes.js';

export interface CallExchangeOptions {
  api: MatrixApi;
  peer: CallPeer;
  userId: string;
  deviceId: string;
  sessionId: string;
  candidateBatchMs: number;
  seq: boolean;
  record: ExchangeRecord;
  /** Called after every state change (waiters re-check). */
  notify: () => void;
}

export class CallExchange {
  /** Replaces the default handling of an `m.call.negotiate` answer (`peer.setRemoteDescription`). */
  onNegotiateAnswer: ((content: Record<string, unknown>) => void | Promise<void>) | undefined;
  appliedNegotiations = 0;

  readonly #o: CallExchangeOptions;
  readonly #calls = new Map<string, CallState>();
  readonly #foci = new Set<string>();
  #current: CallState | undefined;
  #sendChain: Promise<void> = Promise.resolve();
  #incoming: Promise<void> = Promise.resolve();
  #txn = 0;
  #batch: CandidateBatch | undefined;
  #closing = false;

  constructor(o: CallExchangeOptions) {
    this.#o = o;
  }

  /** The call placed last. */
  get current(): CallState | undefined {
    return this.#current;
  }

  /**
   * Creates the peer's offer and sends `m.call.invite` to the focus device, then trickles the peer's candidates.
   * Reusing the current `callId` and session re-invites (renegotiation, §4.3).
   */
  async invite(o: InviteOptions): Promise<CallState> {
    const offerSdp = await this.#o.peer.createOffer(o.offerOpts);
    const callId = o.callId ?? newCallId();
    const sessionId = o.sessionId ?? this.#o.sessionId;
    let call = this.#calls.get(callId);
    if (call?.sessionId !== sessionId || call.confId !== o.confId) {
      call = {
        callId,
        confId: o.confId,
        sessionId,
        focus: { user_id: o.focus.user_id, device_id: o.focus.device_id },
        roomId: o.roomId,
        selectAnswer: o.selectAnswer ?? true,
        offerSdp,
        invites: 0,
        answers: 0,
        seq: 0,
        answer: undefined,
        remoteCandidatesEnded: false,
        remoteHangup: undefined,
        localHangup: false,
        pendingNegotiate: 0,
      };
      this.#calls.set(callId, call);
    }
    call.offerSdp = offerSdp;
    call.invites++;
    this.#current = call;
    this.#foci.add(call.focus.user_id);
    const content: Record<string, unknown> = {
      ...this.#base(call),
      invitee: call.focus.user_id,
      lifetime: o.lifetime ?? 60_000,
      offer: { type: 'offer', sdp: offerSdp },
      [METADATA_KEY]: o.metadata ?? metadataFromSdp(offerSdp, this.#o.userId, this.#o.deviceId),
      ...o.extra,
    };
    await this.#enqueue('m.call.invite', call.focus, content);
    this.#hookCandidates();
    return call;
  }

  /** Sends `m.call.hangup` for the current call. */
  async hangup(reason: string): Promise<void> {
    const call = this.#requireCall();
    call.localHangup = true;
    await this.#enqueue('m.call.hangup', call.focus, { ...this.#base(call), reason });
  }

  /** Sends `m.call.select_answer` for the current call. */
  async selectAnswer(partyId?: string): Promise<void> {
    const call = this.#requireCall();
    await this.#enqueue('m.call.select_answer', call.focus, {
      ...this.#base(call),
      selected_party_id: partyId ?? call.focus.device_id,
    });
  }

  /** Sends a to-device `m.call.negotiate` offer for the current call. */
  async negotiate(offerSdp: string, metadata?: Record<string, unknown>): Promise<void> {
    const call = this.#requireCall();
    call.pendingNegotiate++;
    await this.#enqueue('m.call.negotiate', call.focus, {
      ...this.#base(call),
      description: { type: 'offer', sdp: offerSdp },
      [METADATA_KEY]: metadata ?? metadataFromSdp(offerSdp, this.#o.userId, this.#o.deviceId),
    });
  }

  /** Raw to-device send (no fields added), to the current call's focus unless `to` is given. */
  async sendRaw(type: string, content: Record<string, unknown>, to?: FocusRef): Promise<void> {
    const target = to ?? this.#current?.focus;
    if (target === undefined) {
      throw new Error('sendToDevice: no focus to send to (no call yet, and no `to`)');
    }
    await this.#enqueue(type, target, content);
  }

  /** Takes one raw `/sync` to-device entry: recorded, and applied if it belongs to one of our calls. */
  receive(raw: unknown): void {
    const r = this.#o.record;
    if (
      !isObject(raw) ||
      typeof raw['type'] !== 'string' ||
      typeof raw['sender'] !== 'string' ||
      !isObject(raw['content'])
    ) {
      r.violations.push(`malformed to-device event in /sync: ${JSON.stringify(raw)}`);
      return;
    }
    const ev: ToDeviceEvent = { type: raw['type'], sender: raw['sender'], content: raw['content'] };
    r.received.push(ev);
    const callId = ev.content['call_id'];
    const call = typeof callId === 'string' ? this.#calls.get(callId) : undefined;
    if (call === undefined) {
      if (this.#foci.has(ev.sender) && ev.type.startsWith('m.call.')) {
        r.violations.push(`${ev.type} from the focus for unknown call_id ${JSON.stringify(callId)}`);
      }
    } else {
      this.#incoming = this.#incoming
        .then(() => this.#handle(ev, call))
        .catch((err: unknown) => {
          r.errors.push(`${ev.type}: ${describeError(err)}`);
        })
        .finally(() => {
          this.#o.notify();
        });
    }
    this.#o.notify();
  }

  /** Drops unsent candidates and stops sending new ones; resolves once every send and apply has settled. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#batch?.close();
    await this.#sendChain;
    await this.#incoming;
  }

  /** Base content fields of our outgoing call events (§4.1); takes the next `seq`. */
  #base(call: CallState): Record<string, unknown> {
    const base: Record<string, unknown> = {
      call_id: call.callId,
      conf_id: call.confId,
      party_id: this.#o.deviceId,
      version: '1',
      device_id: this.#o.deviceId,
      sender_session_id: call.sessionId,
      dest_session_id: 'sfu',
    };
    if (this.#o.seq) {
      base['seq'] = call.seq++;
    }
    if (call.roomId !== undefined) {
      base['room_id'] = call.roomId;
    }
    return base;
  }

  #requireCall(): CallState {
    if (this.#current === undefined) {
      throw new Error('no call: invite() first');
    }
    return this.#current;
  }

  /** One FIFO for every to-device send; the returned promise settles with this message's PUT. */
  #enqueue(type: string, to: FocusRef, content: Record<string, unknown>): Promise<void> {
    const txnId = `${this.#o.deviceId}.${Date.now()}.${++this.#txn}`;
    const run = async (): Promise<void> => {
      await this.#o.api.sendToDevice(type, txnId, { [to.user_id]: { [to.device_id]: content } });
      this.#o.record.sent.push({ type, to, content });
    };
    const p = this.#sendChain.then(run);
    this.#sendChain = p.catch(() => undefined);
    return p;
  }

  /** From the first invite on, the peer's candidates go to the current call in batches. */
  #hookCandidates(): void {
    if (this.#batch !== undefined) {
      return;
    }
    const batch = new CandidateBatch(this.#o.candidateBatchMs, (candidates) => {
      const call = this.#current;
      if (call === undefined) {
        return;
      }
      this.#enqueue('m.call.candidates', call.focus, { ...this.#base(call), candidates }).catch(
        (err: unknown) => {
          this.#o.record.errors.push(`m.call.candidates: ${describeError(err)}`);
        },
      );
    });
    if (this.#closing) {
      batch.close();
    }
    this.#batch = batch;
    this.#o.peer.onCandidate((c) => {
      batch.add(c);
    });
  }

  async #handle(ev: ToDeviceEvent, call: CallState): Promise<void> {
    const c = ev.content;
    const bad = (why: string): void => {
      this.#o.record.violations.push(`${ev.type} (call ${call.callId}): ${why}`);
    };
    checkBase(ev.sender, c, call).forEach(bad);
    switch (ev.type) {
      case 'm.call.answer':
        return this.#onAnswer(c, call, bad);
      case 'm.call.candidates':
        return this.#onCandidates(c, call, bad);
      case 'm.call.hangup':
        checkHangup(c).forEach(bad);
        if (call.remoteHangup !== undefined) {
          bad('second hangup');
        }
        call.remoteHangup ??= c;
        this.#o.record.hangups.push(c);
        return;
      case 'm.call.negotiate':
        return this.#onNegotiate(c, call, bad);
      default:
        bad('unexpected event type from the focus');
    }
  }

  async #onAnswer(c: Record<string, unknown>, call: CallState, bad: (why: string) => void): Promise<void> {
    call.answers++;
    if (call.answers > call.invites) {
      bad(`answer #${call.answers} to ${call.invites} invite(s)`);
    }
    if (call.remoteHangup !== undefined) {
      bad('answer after the focus hung up');
    }
    const answer = descriptionOf(c['answer'], 'answer');
    if (answer === undefined) {
      bad(`answer is not {type: "answer", sdp}: ${JSON.stringify(c['answer'])}`);
      return;
    }
    checkMetadata(c).forEach(bad);
    const first = call.answer === undefined;
    await this.#o.peer.setRemoteDescription(answer);
    call.answer = c;
    if (first && call.selectAnswer && !call.localHangup) {
      await this.#enqueue('m.call.select_answer', call.focus, {
        ...this.#base(call),
        selected_party_id: call.focus.device_id,
      });
    }
  }

  async #onCandidates(
    c: Record<string, unknown>,
    call: CallState,
    bad: (why: string) => void,
  ): Promise<void> {
    if (call.answers === 0) {
      bad('candidates before the answer');
    }
    const list = c['candidates'];
    if (!Array.isArray(list) || list.length === 0) {
      bad(`candidates is not a non-empty array: ${JSON.stringify(list)}`);
      return;
    }
    for (const raw of list as unknown[]) {
      const cand = candidateOf(raw);
      if (cand === undefined) {
        bad(`bad candidate ${JSON.stringify(raw)}`);
        continue;
      }
      if (call.remoteCandidatesEnded && cand.candidate !== '') {
        bad('candidate after the end-of-candidates marker');
      }
      if (cand.candidate === '') {
        call.remoteCandidatesEnded = true;
      }
      await this.#o.peer.addIceCandidate(cand);
    }
  }

  async #onNegotiate(c: Record<string, unknown>, call: CallState, bad: (why: string) => void): Promise<void> {
    const d = descriptionOf(c['description'], 'answer');
    if (d === undefined) {
      bad(`description is not {type: "answer", sdp}: ${JSON.stringify(c['description'])}`);
      return;
    }
    if (call.pendingNegotiate === 0) {
      bad('negotiate answer without a to-device offer of ours');
    } else {
      call.pendingNegotiate--;
    }
    checkMetadata(c).forEach(bad);
    this.#o.record.negotiateAnswers.push(c);
    try {
      if (this.onNegotiateAnswer !== undefined) {
        await this.onNegotiateAnswer(c);
      } else {
        await this.#o.peer.setRemoteDescription(d);
      }
    } finally {
      this.appliedNegotiations++;
    }
  }
}
