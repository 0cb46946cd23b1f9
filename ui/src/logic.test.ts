import { describe, expect, it } from "vitest";
import {
  Autosaver, applicableItems, countProblems, emptyAnswers, emptyTipForm, formatTime, inspectionFrom,
  inspectionPasses, parseEnrollLink, percent, step, tipFromForm, vietnamToday,
} from "./logic";
import { translate, table } from "./i18n";
import { TIP_CATEGORIES } from "./codes";
import type { ChecklistTemplate, Household } from "./generated/bindings";

describe("enrollment links", () => {
  it("reads server and code", () => {
    expect(parseEnrollLink("sotay://enroll?server=http%3A%2F%2F127.0.0.1%3A8787&code=AB12-CD34"))
      .toEqual({ server: "http://127.0.0.1:8787", code: "AB12-CD34" });
  });
  it.each(["", "https://x/enroll?server=a&code=b", "sotay://enroll?server=a", "sotay://enroll?code=b"])(
    "refuses %s", (link) => expect(parseEnrollLink(link)).toBeNull());
});

describe("tip form", () => {
  it("anonymous resident keeps nothing about the informant", () => {
    const f = { ...emptyTipForm(), source: "anonymous" as const, informantName: "Bà Tư", informantPhone: "0912345678" };
    expect(tipFromForm(f).source).toEqual({ kind: "resident", informant: { kind: "anonymous" } });
  });
  it("'không nhớ địa điểm' drops the place typed", () => {
    const f = { ...emptyTipForm(), locationText: "hẻm 5", notRemembered: true };
    expect(tipFromForm(f).location).toEqual({ not_remembered: true });
  });
  it("keeps text as typed and one suspect", () => {
    const f = { ...emptyTipForm(), category: "drugs" as const, description: "<b>x</b>", suspect: " Tý ", urgent: true };
    const tip = tipFromForm(f);
    expect(tip.description).toBe("<b>x</b>");
    expect(tip.suspects).toEqual([{ name_or_alias: "Tý" }]);
    expect(tip.urgency).toBe("urgent");
  });
});

describe("autosave", () => {
  it("saves one at a time, reuses the id and saves the latest value last", async () => {
    const calls: [string | null, string][] = [];
    let n = 0;
    const saver = new Autosaver<string>(async (id, v) => {
      calls.push([id, v]);
      await new Promise((r) => setTimeout(r, 5));
      return id ?? `id-${++n}`;
    });
    void saver.push("a"); void saver.push("ab"); void saver.push("abc");
    await saver.flush();
    expect(calls[0]).toEqual([null, "a"]);
    expect(calls[calls.length - 1]).toEqual(["id-1", "abc"]);
    expect(calls.length).toBeLessThanOrEqual(2);
    expect(saver.id).toBe("id-1");
  });
});

const template: ChecklistTemplate = {
  id: "pccc-household", version: 1, title: { vi: "t", en: "t" },
  items: [
    { code: "electrical", number: 1, label: { vi: "Điện", en: "Electrics" }, required: true, applies: "all" },
    { code: "smoke-alarm", number: 2, label: { vi: "Báo khói", en: "Smoke alarm" }, required: false, applies: "all" },
    { code: "business-separation", number: 3, label: { vi: "KD", en: "Business" }, required: true, applies: "has-business" },
  ],
};
const home: Household = { id: "h1", address: "1 Lê Lợi", head: "An", residents: 4, phone: null, has_business: false, rents_rooms: false, notes: null };

describe("inspection wizard", () => {
  it("asks only what applies", () => {
    expect(applicableItems(template, home).map((i) => i.code)).toEqual(["electrical", "smoke-alarm"]);
    expect(applicableItems(template, { ...home, has_business: true })).toHaveLength(3);
  });
  it("builds answers, violations and the derived result", () => {
    const a = emptyAnswers(applicableItems(template, home));
    a.electrical = { answer: "fail", note: "dây câu móc", fix: "Đi lại dây", deadline: "2026-12-30" };
    a["smoke-alarm"] = { answer: "pass", note: "", fix: "", deadline: "" };
    const i = inspectionFrom(template, home, a, "Tổ trưởng", "Chị Lan", new Date("2026-11-26T03:00:00Z"));
    expect(i.answers.map((x) => x.answer)).toEqual(["fail", "pass", "not-applicable"]);
    expect(i.violations).toEqual([{ item: "electrical", fix: "Đi lại dây", deadline: "2026-12-30" }]);
    expect(i.acknowledged_by).toBe("Chị Lan");
    expect(inspectionPasses(template, a)).toBe(false);
    a.electrical.answer = "pass"; a["smoke-alarm"].answer = "fail";
    expect(inspectionPasses(template, a)).toBe(true);
  });
});

describe("count rules", () => {
  it.each([
    [{ residents: 110, collected: 80, activated: 41 }, {}],
    [{ residents: 110, collected: 80, activated: 90 }, { activated: "rule.exceeds-collected" }],
    [{ residents: 10, collected: 80, activated: 5 }, { collected: "rule.exceeds-residents" }],
  ])("%j → %j", (c, want) => expect(countProblems(c)).toEqual(want));
  it("steppers stay whole and within range", () => {
    expect(step(0, -1)).toBe(0);
    expect(step(4.7, 1)).toBe(5);
    expect(step(Number.NaN, 1)).toBe(1);
    expect(step(100000, 1)).toBe(100000);
  });
  it("percent is bounded", () => {
    expect(percent(41, 110)).toBe(37);
    expect(percent(5, 0)).toBe(0);
    expect(percent(200, 100)).toBe(100);
  });
});

describe("time and words", () => {
  it("uses Vietnam's day and clock", () => {
    expect(vietnamToday(new Date("2026-11-26T18:00:00Z"))).toBe("2026-11-27");
    expect(formatTime("2026-11-26T18:05:00Z")).toBe("27/11/2026 01:05");
  });
  it("has every category in both languages and fills placeholders", () => {
    for (const c of TIP_CATEGORIES) {
      expect(table[`tip-category.${c}`]?.vi).toBeTruthy();
      expect(table[`tip-category.${c}`]?.en).toBeTruthy();
    }
    expect(translate("vi", "tip-category.drugs")).toBe("Ma túy");
    expect(translate("en", "ui.history.receipt", { n: 7 })).toBe("Receipt no. 7");
    expect(translate("en", "no.such.key")).toBe("no.such.key");
  });
  it("every ui label has both languages", () => {
    for (const [k, v] of Object.entries(table)) {
      expect(v.vi.trim(), k).not.toBe("");
      expect(v.en.trim(), k).not.toBe("");
    }
  });
});
