export { signWebhookBody, verifyWebhookSignature, SIGNATURE_HEADER } from "./signature";
export { checkWebhookUrl, isPublicAddress, dnsResolver, UnsafeWebhookUrlError, type Resolver, type ResolvedAddress } from "./ssrf";
export { sendWebhook, withRetries, backoffMs, DEFAULT_RETRY, type RetryPolicy, type DeliveryOutcome } from "./deliver";
export { WebhookDelivery, createWebhookDelivery, answerPayload, safeOrigin } from "./worker-hook";
