export { eventGridPublisher } from './eventGridPublisher';
export type { OutboundCloudEvent, OutboundMark, OutboundStatus } from './outboundEvent';
export { OUTBOUND_EVENT_TYPES, outboundVersion, toCloudEvent } from './outboundEvent';
export type { OutboundPublisher } from './OutboundPublisher';
export type { DeliverResult } from './Outbox';
export { Outbox } from './Outbox';
export type { WebhookOptions } from './webhookPublisher';
export { DEFAULT_WEBHOOK_TRIES, webhookPublisher } from './webhookPublisher';
export { signWebhook, verifyWebhook } from './webhookSignature';
