/** Undoes one thing that was opened: ends a pool, stops a server, removes a scratch directory. */
export type Releaser = () => unknown;

/**
 * A stack of releasers (STYLE rule 13, graphile-worker's `withReleasers`): push each thing right
 * after opening it, call `release()` on every path. It runs them once, last pushed first, each
 * awaited; one that fails (or throws) does not stop the rest, and its error is dropped (releasing is
 * best effort). The stack is empty afterwards: a second `release()` does nothing.
 */
export interface Releasers {
  push(releaser: Releaser): void;
  release(): Promise<void>;
}

export function releaserStack(): Releasers {
  const stack: Releaser[] = [];
  return {
    push: (releaser) => {
      stack.push(releaser);
    },
    release: async () => {
      for (const releaser of stack.splice(0).reverse()) {
        try {
          await releaser();
        } catch {
          // Best effort: the releasers below this one still run.
        }
      }
    },
  };
}
