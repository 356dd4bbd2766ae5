import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-stockflow-signature';
export const TIMESTAMP_HEADER = 'x-stockflow-timestamp';
/** How far a webhook's timestamp may be from our clock; bounds how long a captured request can be replayed. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<raw body>`, the value upstream systems send. */
export function signPayload(secret: string, timestamp: number, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

export function signedHeaders(secret: string, rawBody: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: signPayload(secret, timestamp, rawBody) };
}

/** Why a webhook's signature is not acceptable, or undefined when it is. */
export function signatureProblem(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string,
  now = Date.now(),
): string | undefined {
  const signature = headers[SIGNATURE_HEADER];
  const timestampText = headers[TIMESTAMP_HEADER];
  if (typeof signature !== 'string' || signature === '') return `missing ${SIGNATURE_HEADER} header`;
  if (typeof timestampText !== 'string' || !/^\d{1,12}$/.test(timestampText)) return `missing or malformed ${TIMESTAMP_HEADER} header`;
  const timestamp = Number(timestampText);
  if (Math.abs(now / 1000 - timestamp) > SIGNATURE_TOLERANCE_SECONDS) {
    return `${TIMESTAMP_HEADER} is more than ${SIGNATURE_TOLERANCE_SECONDS}s away from the server clock`;
  }
  const expected = Buffer.from(signPayload(secret, timestamp, rawBody));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'signature does not match the body';
  return undefined;
}
