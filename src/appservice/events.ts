/**
 * Shapes of what arrives in appservice transactions, and their cheap structural checks.
 * Room events are the spec's ClientEvent; to-device messages are MSC2409's
 * `{type, sender, to_user_id, to_device_id, content}`.
 */
export interface RoomEvent {
  type: string;
  event_id: string;
  room_id: string;
  sender: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
  unsigned?: Record<string, unknown>;
}

export interface ToDeviceEvent {
  type: string;
  sender: string;
  to_user_id: string;
  to_device_id: string;
  content: Record<string, unknown>;
}

export type EphemeralEvent = Record<string, unknown>;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isRoomEvent(v: unknown): v is RoomEvent {
  return (
    isRecord(v) &&
    typeof v['type'] === 'string' &&
    typeof v['event_id'] === 'string' &&
    typeof v['room_id'] === 'string' &&
    typeof v['sender'] === 'string' &&
    typeof v['origin_server_ts'] === 'number' &&
    isRecord(v['content']) &&
    (v['state_key'] === undefined || typeof v['state_key'] === 'string')
  );
}

export function isToDeviceEvent(v: unknown): v is ToDeviceEvent {
  return (
    isRecord(v) &&
    typeof v['type'] === 'string' &&
    typeof v['sender'] === 'string' &&
    typeof v['to_user_id'] === 'string' &&
    typeof v['to_device_id'] === 'string' &&
    isRecord(v['content'])
  );
}
