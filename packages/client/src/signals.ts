// One AbortSignal that aborts when any of several does, with listeners removed when the work ends
// (STYLE §4: listen once, remove the listener, pass `signal.reason` on).

export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Removes the listeners from the source signals; the linked signal stays as it is. */
  unlink(): void;
}

export function linkSignals(...sources: readonly (AbortSignal | undefined)[]): LinkedSignal {
  const controller = new AbortController();
  const present = sources.filter((s): s is AbortSignal => s !== undefined);
  const already = present.find((s) => s.aborted);
  if (already !== undefined) {
    controller.abort(already.reason);
    return { signal: controller.signal, unlink: () => {} };
  }
  const listeners = present.map((source) => {
    const onAbort = (): void => controller.abort(source.reason);
    source.addEventListener('abort', onAbort, { once: true });
    return { source, onAbort };
  });
  let linked = true;
  return {
    signal: controller.signal,
    unlink: () => {
      if (!linked) return;
      linked = false;
      for (const { source, onAbort } of listeners) source.removeEventListener('abort', onAbort);
    },
  };
}
