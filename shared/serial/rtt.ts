/**
 * Retransmission timeout from measured round trips (RFC 6298: smoothed RTT plus four times
 * its variation), clamped between a floor and a ceiling and doubled on each expiry.
 * Samples come from echoed transmission numbers, so a resent frame never muddles them.
 */
export class RetransmitTimer {
  private srtt: number | undefined;
  private rttvar = 0;
  private backoff = 1;

  constructor(private readonly floorMs: number, private readonly ceilingMs: number, private readonly initialMs: number) {}

  get smoothedRtt(): number | undefined {
    return this.srtt;
  }

  sample(rtt: number): void {
    if (this.srtt === undefined) {
      this.srtt = rtt;
      this.rttvar = rtt / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rtt);
      this.srtt = 0.875 * this.srtt + 0.125 * rtt;
    }
  }

  /** The current timeout, backoff included. */
  get timeoutMs(): number {
    const base = this.srtt === undefined ? this.initialMs : this.srtt + 4 * this.rttvar;
    return Math.min(this.ceilingMs, Math.max(this.floorMs, base) * this.backoff);
  }

  expired(): void {
    this.backoff = Math.min(this.backoff * 2, 1024);
  }

  /** The line moved: forget the backoff. */
  progressed(): void {
    this.backoff = 1;
  }
}
