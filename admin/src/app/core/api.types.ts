/**
 * Friendly names for the Herald JSON API's shapes. Every type comes from api.generated.ts, which
 * `npm run api:types` generates from the server's OpenAPI document: nothing here is written by hand,
 * so the console cannot drift from what the server sends. (The WebSocket's messages are in live.ts.)
 */
import type { components, operations } from './api.generated';

type Schemas = components['schemas'];
type JsonBody<Op extends keyof operations> = operations[Op] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

/** The signed-in user from `/api/auth/csrf`, `/api/auth/me` and `/api/auth/login`. */
export type SessionUser = Schemas['User'];
/** `GET /api/auth/csrf`: the session's CSRF token and who is signed in (null when nobody is). */
export type CsrfAnswer = Schemas['CsrfToken'];
/** Every API error body: `{error:{code,message,details}}`. */
export type ApiErrorBody = Schemas['Error'];

/** A role on the platform; only `admin` may use this console. */
export type Role = SessionUser['role'];
export const ROLES: readonly Role[] = ['candidate', 'instructor', 'admin'];

/** A notification as the user-facing API returns it. */
export type Notification = Schemas['Notification'];
export type NotificationType = Notification['type'];
/** Admin listings also say who received the notification. */
export type AdminNotification = Schemas['AdminNotification'];
export type AdminStats = Schemas['AdminStats'];
/** An application as the admin table lists it. */
export type Application = Schemas['AdminApplication'];
export type ApplicationStatus = Application['status'];
export type Course = Schemas['Course'];
export type AdminUser = Schemas['AdminUser'];
/** A personal access token as admins see it (never its secret). */
export type AdminAccessToken = Schemas['AdminAccessToken'];
export type AdminAccessTokenList = Schemas['AdminAccessTokenList'];
export type WebhookEndpoint = Schemas['WebhookEndpoint'];
export type WebhookEndpointList = Schemas['WebhookEndpointList'];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type WebhookDeliveryList = Schemas['WebhookDeliveryList'];

/** Who receives a composed notification. */
export type Audience = JsonBody<'adminSendNotification'>['audience'];
/** A recorded send's progress (the 202 of a large send, and its status URL). */
export type SendStatus = Schemas['Send'];

/** A page of a server-side paginated admin listing. */
export type Page<T> = Omit<Schemas['AdminUserPage'], 'results'> & { results: T[] };

/** One notification sent (or not) on one channel, as `GET /api/admin/deliveries/` lists it. */
export type Delivery = Schemas['Delivery'];
export type DeliveryPage = Schemas['DeliveryPage'];
export type DeliveryStatus = Delivery['status'];
type DeliveryQuery = NonNullable<operations['adminListDeliveries']['parameters']['query']>;
export type DeliveryChannel = NonNullable<DeliveryQuery['channel']>;
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'sent', 'failed', 'skipped', 'cancelled'];
export const DELIVERY_CHANNELS: readonly DeliveryChannel[] = ['email', 'push', 'webhook'];

/** What a notification type does on each channel, and the defaults admins set per type. */
export type TypePreference = Schemas['TypePreference'];
export type EmailMode = TypePreference['email'];
export type PreferenceDefaults = Schemas['PreferenceDefaults'];
export type PreferenceChannel = PreferenceDefaults['locked'][string][number];
/** `PATCH /api/admin/preferences/defaults/`: some channels of some types. */
export type DefaultsPatch = JsonBody<'adminUpdatePreferenceDefaults'>;
export const EMAIL_MODES: readonly EmailMode[] = ['off', 'immediate', 'unread', 'digest'];
