import type { BucketPolicy } from "../lib/token-bucket";

/**
 * How fast passwords may be tried and accounts made, each a token bucket in a
 * Throttle object (src/auth/throttle.ts) named by what it counts.
 */

/** Per email (known or not): 10 wrong passwords at once, then one a minute. */
export const EMAIL_POLICY: BucketPolicy = { capacity: 10, refillMs: 60_000 };
/** Per client address: room for an office behind one NAT, then one every 3 s. */
export const CLIENT_POLICY: BucketPolicy = { capacity: 100, refillMs: 3_000 };
/**
 * Signups per client address: a classroom behind one NAT at once, then one
 * every 90 seconds (40 an hour): well below the 300 the contract bounds.
 * Every signup spends a token (each costs a password hash and may answer 409
 * email_taken), so no refund.
 */
export const SIGNUP_CLIENT_POLICY: BucketPolicy = { capacity: 40, refillMs: 90_000 };
/** Signups per email (known or not): a few retries, then one every 10 minutes. */
export const SIGNUP_EMAIL_POLICY: BucketPolicy = { capacity: 5, refillMs: 10 * 60_000 };

/** Password-reset requests per email (known or not): a few, then one every 10 minutes; a newer link replaces the older anyway. */
export const RESET_EMAIL_POLICY: BucketPolicy = { capacity: 3, refillMs: 10 * 60_000 };
/** Password-reset requests per client address: a few people behind one NAT, then one a minute. */
export const RESET_CLIENT_POLICY: BucketPolicy = { capacity: 20, refillMs: 60_000 };
/** Verification links resent per account: a few, then one every 10 minutes. */
export const VERIFY_RESEND_POLICY: BucketPolicy = { capacity: 3, refillMs: 10 * 60_000 };
/**
 * Verification links resent per client address: a few people behind one NAT, then one a minute. The account's
 * bucket bounds one inbox; this one bounds an address that holds many accounts, each made with someone's email.
 */
export const VERIFY_RESEND_CLIENT_POLICY: BucketPolicy = { capacity: 20, refillMs: 60_000 };
/**
 * New-browser alerts emailed per account while its address is not proven: a few, then one every 10 minutes, as
 * many as password-reset emails to one address. Logins past it are still logged (`new_browser_login`), not emailed.
 */
export const NEW_BROWSER_ALERT_POLICY: BucketPolicy = { capacity: 3, refillMs: 10 * 60_000 };
