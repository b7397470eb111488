/**
 * The Transport contract (test/transport/contract.ts) for the serial transport: both ends
 * over real ptys with the relay between them, unthrottled (the contract moves megabytes) and
 * with pacing off (pace=0), so it checks behaviour, not the line rate.
 */
import { describe } from 'vitest';
import type { SerialTransport } from '../../shared/serial/serial-transport';
import { transportContract } from '../transport/contract';
import { HAVE_SOCAT, startLine, stopLines } from './line';

describe.runIf(HAVE_SOCAT)('serial', () => {
  transportContract('serial (pty pairs and relay)', async (opts = {}) => {
    const line = await startLine({ baud: 0 });
    const boardOpen = line.openBoard({ paceBaud: 0, ...opts.b });
    const a = (await line.openHost('pace=0', { ...opts.a })) as SerialTransport;
    // No handshake here: the host's limit on an agent that has not proven itself is lifted as
    // the handshake would (the contract sends messages of megabytes).
    a.authenticated();
    const b = await boardOpen;
    return {
      a,
      b,
      freeze: () => line.relay.freeze(),
      stall: () => line.relay.stall(),
      cleanup: stopLines,
    };
  });
});
