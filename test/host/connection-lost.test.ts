/**
 * How a call in flight reports the end of its connection: a link that fell silent keeps its
 * documented code (TRANSPORT_IDLE_TIMEOUT), any other end is CONNECTION_LOST; both exit 5.
 */
import { describe, expect, it } from 'vitest';
import { connectionLost } from '../../host/client/errors';
import { TransportError } from '../../shared/transport/transport';

describe('connectionLost', () => {
  it('keeps TRANSPORT_IDLE_TIMEOUT for a link that fell silent, with the phase hint', () => {
    const silent = new TransportError('TRANSPORT_IDLE_TIMEOUT', 'nothing heard from ws://b:1/ for 30 s: the peer or the line to it is gone');
    const err = connectionLost('ws://b:1/', { reason: 'idle-timeout', error: silent }, 'run');
    expect(err.code).toBe('TRANSPORT_IDLE_TIMEOUT');
    expect(err.message).toContain('nothing heard from ws://b:1/ for 30 s');
    expect(err.hint).toMatch(/run the command again/);
    expect(err.exitCode).toBe(5);
  });

  it('is CONNECTION_LOST for a connection that was reset or closed', () => {
    const reset = new TransportError('TRANSPORT_DISCONNECTED', 'ECONNRESET');
    expect(connectionLost('ws://b:1/', { reason: 'error', error: reset }).code).toBe('CONNECTION_LOST');
    expect(connectionLost('ws://b:1/', { reason: 'remote' }, 'upload').code).toBe('CONNECTION_LOST');
  });
});
