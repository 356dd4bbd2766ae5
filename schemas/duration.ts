import { z } from 'zod';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** The longest SLA or window: beyond it a durable timer says nothing a person could act on. */
export const MAX_DURATION_SECONDS = 90 * UNIT_SECONDS.d;
const TOO_LONG = `must be at most 90 days (${MAX_DURATION_SECONDS.toLocaleString('en')} seconds)`;

/** A duration as whole seconds or text like "90s", "15m", "4h", "2d"; parsed to seconds. */
export const DurationSeconds = z.union([
  z.number().int('must be whole seconds').positive('must be greater than 0').max(MAX_DURATION_SECONDS, TOO_LONG),
  z
    .string()
    .regex(/^\d{1,12}\s*[smhd]$/, 'must look like 90s, 15m, 4h or 2d')
    .transform((text) => {
      const unit = text.trim().slice(-1) as keyof typeof UNIT_SECONDS;
      return Number.parseInt(text, 10) * UNIT_SECONDS[unit];
    })
    .refine((seconds) => seconds > 0, 'must be greater than 0')
    .refine((seconds) => seconds <= MAX_DURATION_SECONDS, TOO_LONG),
]);
