/** What route modules share. */
import type { HttpClient } from './httpClient.js';
import type { HomeserverState } from './state.js';
import type { SyncWaiters } from './sync.js';

export interface ServerContext {
  state: HomeserverState;
  http: HttpClient;
  syncWaiters: SyncWaiters;
  options: {
    msc4190: boolean;
    stateEventsIncludeRoomId: boolean;
    maxSyncTimeoutMs: number;
  };
  /** What `/.well-known/matrix/client` announces (the base URL is set once the listener is up). */
  discovery: { baseUrl: string; rtcFoci: unknown[] | undefined };
  /** Transaction-id idempotency (client-server API "Transaction identifiers"): key → cached response body. */
  txns: Map<string, unknown>;
}
