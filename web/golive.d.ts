// Types for golive.js, GoLive's browser client (docs/client.md; the protocol: docs/protocol.md).

export interface User {
  id: string;
  username: string;
  role?: string;
}

/** A chat message as delivered live, replayed with `since`, or returned by history. */
export interface Message {
  type: "message";
  channel: string;
  /** The message's row id: the same id REST history, the delete endpoint and `since` use. */
  id: number;
  /** The published object, as its publisher wrote it. Chat messages carry `content`. */
  data: { content?: string; text?: string; type?: string; [key: string]: unknown };
  /** null for system messages (stream started/ended, broadcasts). */
  user: { id: string; username: string } | null;
  system?: true;
  created_at: string;
}

export interface PresenceEvent { type: "join" | "leave"; channel: string; user: { id: string; username: string } }
export interface MessageDeleted { type: "message_deleted"; channel: string; message_id: number }
/** message_ids: the user's recent messages the ban or timeout removed (hide them). */
export interface UserBanned { type: "user_banned"; channel: string; user_id: string; reason?: string; message_ids?: number[] }
export interface UserTimeout { type: "user_timeout"; channel: string; user_id: string; until: string; reason?: string; message_ids?: number[] }
/** A channel's chat modes (docs/moderation.md "Chat modes"); 0 / false = off. */
export interface ChatModes {
  slow_mode: number;
  members_only: boolean;
  unique_chat: boolean;
  max_message_length: number;
  max_message_bytes: number;
  blocked_terms_action: "refuse" | "hold";
}
export interface ChatModesEvent { type: "chat_modes"; channel: string; chat_modes: ChatModes }
/** Every message up to through_id was cleared by a moderator. */
export interface ChatCleared { type: "chat_cleared"; channel: string; through_id: number }
export interface MessagePinned { type: "message_pinned"; channel: string; message: Message }
export interface MessageUnpinned { type: "message_unpinned"; channel: string }
/** To the channel's moderators only: a message waits for review, or one was decided. */
export interface MessageHeld {
  type: "message_held"; channel: string;
  held: { id: number; user_id: string; username: string | null; data: Record<string, unknown>; term: string; created_at: string };
}
export interface HeldDecided { type: "held_decided"; channel: string; held_id: number; status: "approved" | "denied" }
export interface UserUnbanned { type: "user_unbanned"; channel: string; user_id: string }
/** The server ended a subscription ("banned", "access_revoked"), or a resubscribe after a
 *  reconnect was refused (reason = the error code, error = the error). */
export interface Unsubscribed { type: "unsubscribed"; channel: string; reason: string; error?: GoLiveError }

export type State = "idle" | "connecting" | "connected" | "reconnecting" | "unauthorized" | "closed";
export interface StateEvent {
  state: State;
  previous: State;
  attempt?: number;
  /** Until the next try ("reconnecting", "unauthorized"). */
  delayMs?: number;
  closeCode?: number;
  user?: User | null;
}

export interface SubscribeReply {
  channel: string;
  recovered: number;
  complete?: boolean;
  chat_modes: ChatModes;
  /** The pinned message, when there is one. */
  pinned?: Message;
}
export interface Gap { channel: string; recovered: number }
export interface PresenceReply {
  channel: string;
  users: Array<{ id: string; username: string; connections: number }>;
  anonymous: number;
}
export interface HistoryReply { channel: string; messages: Message[] }
/** held: a blocked term put it in the review queue (held_id), nothing was delivered. */
export type PublishReply = { channel: string; message_id: number } | { channel: string; held: true; held_id: number };

export interface EventMap {
  message: Message;
  join: PresenceEvent;
  leave: PresenceEvent;
  message_deleted: MessageDeleted;
  user_banned: UserBanned;
  user_timeout: UserTimeout;
  user_unbanned: UserUnbanned;
  chat_modes: ChatModesEvent;
  chat_cleared: ChatCleared;
  message_pinned: MessagePinned;
  message_unpinned: MessageUnpinned;
  message_held: MessageHeld;
  held_decided: HeldDecided;
  unsubscribed: Unsubscribed;
  subscribed: SubscribeReply;
  /** A subscribe reply said complete:false: messages after `since` are gone; reload the channel. */
  gap: Gap;
  state: StateEvent;
  /** Server errors for commands without a reply waiter, close codes 1009/1002/1007, getToken failures. */
  error: GoLiveError;
}

export interface Options {
  /** Default: ws(s)://<this page's host>/api/ws */
  url?: string;
  /** Called before every (re)connect; a token, or null for anonymous. */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** "connect" (default: a first connect command) or "query" (?token= in the URL). */
  tokenIn?: "connect" | "query";
  timeoutMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  maxFrameBytes?: number;
  /** For tests: a WebSocket constructor, timers, a random source. */
  WebSocket?: unknown;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (t: unknown) => void;
  random?: () => number;
}

export class GoLiveError extends Error {
  /** The server's code (bad_request, unauthorized, forbidden, not_found, conflict, too_large,
   *  rate_limited, unavailable, internal) or the client's (timeout, disconnected, closed, token,
   *  protocol). */
  code: string;
  channel?: string;
  closeCode?: number;
}

export class GoLiveClient {
  constructor(options?: Options);
  readonly state: State;
  /** Who the server says we are; null when anonymous or not connected yet. */
  readonly user: User | null;
  readonly lastClose: { code: number; reason: string } | null;
  on<K extends keyof EventMap>(type: K, fn: (ev: EventMap[K]) => void): () => void;
  connect(): void;
  close(): void;
  subscribe(channel: string, opts?: { since?: number }): Promise<SubscribeReply>;
  unsubscribe(channel: string): Promise<{ channel: string }>;
  lastId(channel: string): number;
  publish(channel: string, data: Record<string, unknown>): Promise<PublishReply>;
  presence(channel: string): Promise<PresenceReply>;
  history(channel: string, opts?: { limit?: number; before?: number; since?: number }): Promise<HistoryReply>;
  rpc<T = unknown>(method: string, params?: unknown): Promise<T>;
}

export const DEFAULTS: Readonly<{ timeoutMs: number; backoffBaseMs: number; backoffCapMs: number; maxFrameBytes: number }>;
export function backoffDelay(attempt: number, opts?: { baseMs?: number; capMs?: number }, random?: () => number): number;
export function closeAction(code: number): "reconnect" | "auth" | "report";
export class SeenIds {
  constructor(window?: number);
  lastId: number;
  advance(id: number): void;
  accept(id: number): boolean;
}
export class PendingReplies {
  constructor(timers?: { setTimer?: typeof setTimeout; clearTimer?: typeof clearTimeout });
  newId(): string;
  wait(id: string, type: string, timeoutMs: number): Promise<unknown>;
  settle(frame: { type: string; id?: unknown; data?: unknown; error?: { code: string; message: string } }): boolean;
  rejectSent(error: Error): void;
  rejectAll(error: Error): void;
}
