// Values merging as Flux does it (pkg/chartutil transform.MergeMaps): maps merge key by key, recursively; anything
// else in the overlay replaces what the base has.

export type Values = Record<string, unknown>;

export function isPlainObject(v: unknown): v is Values {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function mergeValues(base: Values, overlay: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(overlay)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? mergeValues(b, v) : v;
  }
  return out;
}
