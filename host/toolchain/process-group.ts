/**
 * The process group pulsar runs in. pulsar is often started through a wrapper (a script,
 * `docker run`) that does not `exec` it: signalling the wrapper alone leaves the real pulsar
 * running. So pulsar is spawned detached (its own group, whose id is its pid) and every
 * signal goes to the whole group. Being in its own group, it no longer gets the terminal's
 * Ctrl-C: the command must stop it (runPulsar's signal), and axctl exiting must not leave
 * the group behind, which the 'exit' hook here makes sure of.
 */

export class ProcessGroup {
  private killTimer: NodeJS.Timeout | undefined;
  private readonly onExit = () => { this.signal('SIGKILL'); };

  constructor(private readonly pgid: number) {
    process.on('exit', this.onExit);
  }

  /** Sends `sig` to every process of the group; false when none is left (or none may be signalled). */
  signal(sig: NodeJS.Signals | 0): boolean {
    try {
      process.kill(-this.pgid, sig);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ESRCH' || code === 'EPERM') return false;
      throw err;
    }
  }

  /**
   * SIGTERM to the group, SIGKILL `graceMs` later to whatever is left. The timer does not
   * keep axctl alive: should axctl exit first, the 'exit' hook sends the SIGKILL.
   */
  stop(graceMs: number): void {
    if (this.killTimer) return;
    if (!this.signal('SIGTERM')) {
      this.release();
      return;
    }
    this.killTimer = setTimeout(() => {
      this.signal('SIGKILL');
      this.release();
    }, graceMs);
    this.killTimer.unref();
  }

  /**
   * pulsar itself has ended: anything it left in its group (a child of a wrapper that died,
   * a process it put in the background) is stopped too, not left running after axctl.
   */
  finish(graceMs: number): void {
    if (this.killTimer) return; // already being stopped
    if (this.signal(0)) this.stop(graceMs);
    else this.release();
  }

  private release(): void {
    process.off('exit', this.onExit);
  }
}
