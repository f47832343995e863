// Downloads a HelmChart's artifact (the packaged chart) from the URL source-controller publishes, bounded in size and
// time, and checks it against the published digest before helm ever reads it.
import { createHash } from "node:crypto";

export interface ChartArtifact {
  url: string;
  /** The sha256 digest of the package at `url`: checked before helm reads it, and the chart cache's key. */
  digest: string;
  revision: string;
  /**
   * The chart package already fetched, verified and prepared in this pass (a chart from an OCIRepository, its version
   * rewritten as Flux rewrites it): written as it is, nothing is fetched again.
   */
  content?: Buffer;
  /**
   * A chart from an OCIRepository: its revision (`<tag>@sha256:<hex>`), whose manifest digest is
   * status.lastAttemptedRevisionDigest; the package's Chart.yaml `chartVersion` becomes `revision` when prepared.
   */
  oci?: { revision: string; manifestDigest: string; chartVersion: string };
}

export interface FetchChartOptions {
  maxBytes: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Why a chart could not be fetched; the message names the URL's path, never credentials or query strings. */
export class ChartFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ChartFetchError";
  }
}

function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

/** Downloads the artifact into memory, bounded, and checks it against its digest. */
export async function downloadChart(artifact: ChartArtifact, options: FetchChartOptions): Promise<Buffer> {
  const m = /^sha256:([a-f0-9]{64})$/.exec(artifact.digest);
  if (!m) throw new ChartFetchError(`unsupported artifact digest '${artifact.digest.slice(0, 80)}'`);
  const signals = [AbortSignal.timeout(options.timeoutMs)];
  if (options.signal) signals.push(options.signal);
  let res: Response;
  try {
    res = await fetch(artifact.url, { signal: AbortSignal.any(signals), redirect: "error" });
  } catch (cause) {
    throw new ChartFetchError(`failed to download chart from ${shown(artifact.url)}: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new ChartFetchError(`failed to download chart from ${shown(artifact.url)}: HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > options.maxBytes) {
    await res.body.cancel();
    throw new ChartFetchError(`chart artifact is ${declared} bytes, more than the limit of ${options.maxBytes}`);
  }
  const hash = createHash("sha256");
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > options.maxBytes) {
        throw new ChartFetchError(`chart artifact is larger than the limit of ${options.maxBytes} bytes`);
      }
      hash.update(chunk);
      chunks.push(Buffer.from(chunk));
    }
  } catch (cause) {
    if (cause instanceof ChartFetchError) throw cause;
    throw new ChartFetchError(`failed to download chart from ${shown(artifact.url)}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const got = hash.digest("hex");
  if (got !== m[1]) {
    throw new ChartFetchError(
      `failed to verify artifact: computed digest sha256:${got} does not match '${artifact.digest}'`,
    );
  }
  return Buffer.concat(chunks);
}
