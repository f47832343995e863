// (Capstan) Steps whose module is imported on the first reconcile of their kind. source-controller serves four kinds,
// and most installations use one or two: a controller that only ever sees GitRepositories never loads the Helm
// (index, chart, YAML) or OCI (registry client, layer extraction) code, about 1 MiB of resident memory
// (bench/peer/README.md, "source-controller memory"). lazy.test.ts pins which modules a GitRepository-only
// controller loads.
import { namedStep, type Step } from "@capstan/runtime";

/** A cached dynamic import: the module is loaded once, and loaded again after a failed attempt. */
export function lazyModule<M>(load: () => Promise<M>): () => Promise<M> {
  let loading: Promise<M> | undefined;
  return () => {
    loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
}

/** The step `make` builds from a lazily loaded module, built on its first run and kept. */
export function lazyStep<M, T, S>(name: string, load: () => Promise<M>, make: (module: M) => Step<T, S>): Step<T, S> {
  let step: Step<T, S> | undefined;
  return namedStep(name, async (ctx: Parameters<Step<T, S>>[0], obj: T, state: S) => {
    step ??= make(await load());
    return step(ctx, obj, state);
  });
}
