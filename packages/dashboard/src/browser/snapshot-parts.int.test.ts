// The first snapshot in parts, as thousands of objects send it (server/snapshot.ts), with the parts made small here
// so that a few objects take that path: the page renders the first part, reads the rest afterwards, and must end up
// with every object, the right counts, the list in order, and live changes applied after the snapshot.
import { describe, expect, it } from "vitest";
import { kustomizationCount } from "../test/browser.js";
import { kustomization, setKsStatus, twoTeams, type User } from "../test/harness.js";
import { openStream } from "../test/sse.js";
import { browserSuite, poll } from "../test/suite.js";

const failing = { status: "False" as const, reason: "ReconciliationFailed", message: "dry-run failed" };
let teamA: string;
let operator: User;

const ui = browserSuite(async (tc) => {
  ({ teamA, operator } = await twoTeams(tc, "parts"));
  for (let i = 0; i < 6; i++) {
    await kustomization(tc.client, teamA, `app-${i}`, i === 1 || i === 3 ? failing : undefined);
  }
  // One failing object and two applications in the first message, then messages of two objects.
  return {
    stream: {
      split: { headAttention: 1, headApplications: 2, headEvents: 1, chunkSize: 2, oneMessageUpTo: 0 },
    },
  };
});

describe("Given a first snapshot sent in parts", () => {
  it("should deliver every object the user may list exactly once", async () => {
    const s = openStream(ui.dash.url, { authorization: `Bearer ${operator.token}` });
    try {
      const keys = (await s.snapshot).items.map((i) => i.key).filter((k) => k.includes(`/${teamA}/`));
      expect(keys.sort()).toEqual([
        `GitRepository/${teamA}/repo`,
        ...Array.from({ length: 6 }, (_, i) => `Kustomization/${teamA}/app-${i}`),
      ]);
    } finally {
      s.close();
    }
  });

  it("should show the counts, every failing object, the whole list in order, and changes after it", async () => {
    const page = await ui.pageAs(operator.token);
    await poll(() => kustomizationCount(page, "ready")).toBe("4");
    expect(await kustomizationCount(page, "failing")).toBe("2");
    // The first message held one of the two; the other came with the rest.
    const attention = page.getByRole("list", { name: "Failing and stalled objects" }).getByRole("link");
    await poll(() => attention.allTextContents()).toEqual([`${teamA}/app-1`, `${teamA}/app-3`]);

    await page.goto(`${ui.dash.url}/#/apps`);
    await page.getByText("6 of 6 applications").waitFor();
    const keys = await page
      .locator('table[aria-label="Applications"] tbody tr[data-key]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key")));
    expect(keys).toEqual([1, 3, 0, 2, 4, 5].map((i) => `Kustomization/${teamA}/app-${i}`));

    await setKsStatus(ui.tc.client, teamA, "app-5", failing);
    await poll(() => page.locator(`tr[data-key="Kustomization/${teamA}/app-5"] .c-state`).textContent()).toBe(
      "Failing",
    );
    // The counts the model keeps after the snapshot follow the change.
    await page.goto(`${ui.dash.url}/#/`);
    await poll(() => kustomizationCount(page, "failing")).toBe("3");
    expect(await kustomizationCount(page, "ready")).toBe("3");
  });
});
