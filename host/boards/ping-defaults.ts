/** How `axctl boards` pings, by default: apart from ping.ts so the command's options load without SSH. */
export const PING_DEFAULTS = { timeoutMs: 5_000, concurrency: 16 };
