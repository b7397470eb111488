/**
 * A call that receives several envelopes before it ends (a run's events, a download's chunks,
 * a describe's queue positions): one place for what every such call must get right — end
 * exactly once, stop listening to the signal, tell the agent when the host gives up on it, and
 * honour a signal that was aborted before the request went out.
 */
import type { AxError } from '../../shared/errors';
import type { Envelope } from '../../shared/protocol/envelope';
import type { Channel } from './channel';
import type { CallPhase } from './errors';

export interface StreamControl<T> {
  readonly id: number;
  /** True once the call has ended (later envelopes and writes are to be ignored). */
  readonly finished: boolean;
  done(result: T): void;
  fail(err: AxError): void;
}

export interface StreamedCallSpec<T> {
  /** The request that starts the call, under the call's id. */
  request(id: number): Envelope;
  /** Every envelope of the call but Errors. A throw fails the call. */
  onEnvelope(env: Envelope, call: StreamControl<T>): void;
  signal?: AbortSignal;
  /**
   * What an abort does. Without it the agent is asked to cancel and its answer still ends the
   * call (a cancelled run keeps its evidence); with it the call fails at once with this error.
   */
  abortedError?: () => AxError;
  /** The error when the signal was aborted before the request went out. */
  notStartedError: () => AxError;
  /** Silence after which the call is given up (default: the channel's). */
  timeoutMs?: number;
  /** What the call does, for the advice when the connection is lost. */
  phase?: CallPhase;
}

export function streamedCall<T>(channel: Channel, what: string, spec: StreamedCallSpec<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let finished = false;
    const end = (err: AxError | null, result?: T) => {
      if (finished) return;
      finished = true;
      handle.close();
      spec.signal?.removeEventListener('abort', onAbort);
      if (err) {
        channel.abandon(handle.id, err);
        reject(err);
      } else {
        resolve(result as T);
      }
    };
    const control: StreamControl<T> = {
      get id() {
        return handle.id;
      },
      get finished() {
        return finished;
      },
      done: (result) => end(null, result),
      fail: (err) => end(err),
    };
    const abortedError = spec.abortedError;
    const onAbort = abortedError ? () => end(abortedError()) : () => void channel.cancel(handle.id).catch(() => undefined);
    const handle = channel.open(
      what,
      {
        onEnvelope: (env) => {
          try {
            spec.onEnvelope(env, control);
          } catch (err) {
            end(err as AxError);
          }
        },
        onError: (err) => end(err),
      },
      spec.timeoutMs,
      spec.phase,
    );
    if (spec.signal?.aborted) {
      end(spec.notStartedError());
      return;
    }
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    channel.send(spec.request(handle.id)).catch((err: AxError) => end(err));
  });
}
