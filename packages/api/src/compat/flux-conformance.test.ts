// Capstan's CRDs against Flux's own, as published in the controllers' modules at the releases Flux v2.9.4 ships
// (downloaded from the Go module proxy, cached in ~/.cache/capstan/flux-crds, never committed). Every difference must
// be fixed or listed in deliberate-differences.ts; a listed difference that went away fails too, so the list stays true.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCrds } from "../crds.js";
import { type CrdDocument, crdDiff } from "./crd-diff.js";
import { deliberateDifferences } from "./deliberate-differences.js";
import { fluxControllers, fluxCrds, fluxRelease, fluxReleasePins } from "./flux-crds.js";

const capstan = loadCrds().map((c) => ({ file: `${c.spec.group}_${c.spec.names.plural}.yaml`, crd: c }));
const readme = readFileSync(fileURLToPath(new URL("../../../../README.md", import.meta.url)), "utf8");

describe(`Given Flux ${fluxRelease.version}'s published CRDs`, () => {
  let flux: Map<string, CrdDocument>;

  beforeAll(async () => {
    flux = await fluxCrds();
  }, 600_000);

  it(`should pin the controller releases that flux2 ${fluxRelease.version} installs`, async () => {
    const pinned = Object.fromEntries(fluxControllers.map((c) => [c.name, c.version]));
    expect(await fluxReleasePins()).toEqual(pinned);
  }, 600_000);

  it("should have a Flux CRD for every CRD Capstan serves, and compare them all", () => {
    expect(capstan.map((c) => c.file).sort()).toEqual(fluxControllers.flatMap((c) => c.crds).sort());
  });

  it.each(capstan.map((c) => [c.crd.spec.names.kind, c] as const))(
    "should serve %s exactly as Flux does, apart from the deliberate differences",
    (kind, { file, crd }) => {
      const theirs = flux.get(file);
      if (!theirs) throw new Error(`no Flux CRD ${file}`);
      const found = crdDiff(crd as unknown as CrdDocument, theirs).sort();
      const deliberate = deliberateDifferences
        .filter((d) => d.kind === kind)
        .map((d) => d.difference)
        .sort();
      expect(found).toEqual(deliberate);
    },
  );

  it("should list every deliberate difference in the README's Flux API compatibility section", () => {
    const section = readme.split("## Flux API compatibility")[1]?.split("\n## ")[0] ?? "";
    for (const d of deliberateDifferences) {
      expect(section).toContain(`| ${d.kind} | \`${d.difference}\` |`);
    }
  });
});
