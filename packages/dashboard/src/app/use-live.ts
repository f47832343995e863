import { useEffect, useState } from "preact/hooks";
import type { LiveModel } from "./live.js";

/** Re-renders the calling component whenever the model changes; returns the model's version. */
export function useLive(model: LiveModel): number {
  const [version, setVersion] = useState(model.version);
  useEffect(() => {
    // A snapshot may have landed between the first render and this subscription.
    setVersion(model.version);
    return model.subscribe(() => setVersion(model.version));
  }, [model]);
  return version;
}
