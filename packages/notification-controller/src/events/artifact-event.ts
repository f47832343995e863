// The reason and message of the event a new artifact makes, as the owning controller words it in Flux:
// source-controller's NewArtifact for a GitRepository ("stored artifact for revision ...") and a HelmRepository
// ("stored fetched index of size ... from '<url>'"), and for a HelmChart the chart build's own reason and summary
// (ChartPullSucceeded "pulled 'x' chart with version 'v'", ChartPackageSucceeded "packaged ..."), which
// source-controller keeps on the ArtifactInStorage condition.
import { GitRepositoryReasons } from "@capstan/api";
import { findCondition, type WatchedObject } from "./watched.js";

/** Flux's units.HumanSize: decimal units, four significant digits. */
function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${Number(value.toPrecision(4))}${units[i]}`;
}

export function artifactEvent(obj: WatchedObject, revision: string): { reason: string; message: string } {
  if (obj.kind === "HelmChart") {
    const stored = findCondition(obj, "ArtifactInStorage");
    if (stored?.status === "True" && stored.reason && stored.message) {
      return { reason: stored.reason, message: stored.message };
    }
  }
  if (obj.kind === "HelmRepository") {
    const url = (obj as { spec?: { url?: unknown } }).spec?.url;
    const size = obj.status?.artifact?.size;
    const sized = size === undefined ? "unknown size" : `size ${humanSize(size)}`;
    if (typeof url === "string") {
      return { reason: GitRepositoryReasons.NewArtifact, message: `stored fetched index of ${sized} from '${url}'` };
    }
  }
  return { reason: GitRepositoryReasons.NewArtifact, message: `stored artifact for revision '${revision}'` };
}
