// What `./dev demo` prints about its OCI registry; no imports, so `./dev demo status` stays quick to start.

/** What `./dev demo` prints about the registry: where it is and how to push to it and pull from it. */
export function registryLines(host: string): string {
  return [
    `registry: oci://${host}   (plain HTTP, no login; oras and helm are on PATH after: eval "$(./dev cluster env)")`,
    `  push manifests: tar -czf web.tar.gz -C <dir> . && oras push --plain-http ${host}/manifests/web:1.0.0 \\`,
    "                    web.tar.gz:application/vnd.cncf.flux.content.v1.tar+gzip",
    `  push a chart:   helm package <chart dir> && helm push --plain-http <chart>-<version>.tgz oci://${host}/charts`,
    `  then an OCIRepository with url oci://${host}/manifests/web and insecure: true`,
  ].join("\n");
}
