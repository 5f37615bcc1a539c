import type { RequestHandler } from 'express';
import type { RateLimitSettings } from '../config/config';
import { ApiError } from './errors';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Buckets kept before full ones (the same as absent) are swept out. */
const SWEEP_ABOVE = 10_000;

/**
 * A token bucket per tenant, in this process's memory: each API process enforces the limit on
 * its own, so N processes behind a load balancer allow up to N times the rate.
 */
export class TenantRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Takes one token for `tenantId`: 0 when the request may go on, else milliseconds until it may. */
  take(tenantId: string): number {
    const { perSecond, burst } = this.settings;
    if (perSecond <= 0) return 0;
    const now = this.nowMs();
    const bucket = this.buckets.get(tenantId) ?? { tokens: burst, updatedMs: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * perSecond);
    bucket.updatedMs = now;
    if (!this.buckets.has(tenantId)) this.sweep(now).set(tenantId, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / perSecond) * 1000);
  }

  private sweep(now: number): Map<string, Bucket> {
    if (this.buckets.size < SWEEP_ABOVE) return this.buckets;
    const { perSecond, burst } = this.settings;
    for (const [id, b] of this.buckets) if (b.tokens + ((now - b.updatedMs) / 1000) * perSecond >= burst) this.buckets.delete(id);
    return this.buckets;
  }
}

/** Tenant routes, after tenantAuth: over the limit is 429 with `Retry-After` in whole seconds. */
export function rateLimit(limiter: TenantRateLimiter): RequestHandler {
  return (_req, res, next) => {
    const waitMs = limiter.take(res.locals.tenantId as string);
    if (waitMs === 0) return next();
    next(
      new ApiError(429, 'rate_limited', 'too many requests for this tenant; retry after the delay in Retry-After', [], {
        'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))),
      }),
    );
  };
}
