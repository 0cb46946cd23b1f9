import { describe, expect, it } from "vitest";
import {
  Autosaver, editable, editScreen, emptyAnswers, emptyTipForm, formatTime,
  inspectionFrom, inspectionToForm, instantFromLocal, itemOfField, localFromInstant, networkFromConnection,
  percent, problemsByField, returnedReason, ruleMessage, step, tipFromForm, tipToForm, vietnamToday,
} from "./logic";
import { invalidFields } from "./api";
import { translate, table } from "./i18n";
import { TIP_CATEGORIES } from "./codes";
import type { ChecklistTemplate, Household, InspectionPlan, NetworkKind, Tip } from "./generated/bindings";
import { COUNT_MAX } from "./generated/bindings";

describe("tip form", () => {
  it("anonymous resident keeps nothing about the informant", () => {
    const f = { ...emptyTipForm(), source: "anonymous" as const, informantName: "Bà Tư", informantPhone: "0912345678" };
    expect(tipFromForm(f).source).toEqual({ kind: "resident", informant: { kind: "anonymous" } });
  });
  it("'không nhớ địa điểm' drops the place typed", () => {
    const f = { ...emptyTipForm(), locationText: "hẻm 5", notRemembered: true };
    expect(tipFromForm(f).location).toEqual({ not_remembered: true });
  });
  it("keeps text as typed, every suspect, and drops empty suspect rows", () => {
    const f = {
      ...emptyTipForm(), category: "drugs" as const, description: "<b>x</b>", urgent: true,
      suspects: [
        { name: " Tý ", description: "" },
        { name: "", description: "  " },
        { name: "", description: "cao, xăm tay trái" },
      ],
    };
    const tip = tipFromForm(f);
    expect(tip.description).toBe("<b>x</b>");
    expect(tip.suspects).toEqual([
      { name_or_alias: "Tý", description: undefined },
      { name_or_alias: undefined, description: "cao, xăm tay trái" },
    ]);
    expect(tip.urgency).toBe("urgent");
  });
  it("reads the time as the phone's own clock and back", () => {
    const iso = instantFromLocal("2026-11-25T21:30");
    expect(iso).toBe(new Date(2026, 10, 25, 21, 30).toISOString());
    expect(localFromInstant(iso)).toBe("2026-11-25T21:30");
    expect(instantFromLocal("")).toBeUndefined();
    expect(instantFromLocal("not a time")).toBeUndefined();
    expect(localFromInstant(null)).toBe("");
  });
  it.each<[string, Tip]>([
    ["observed, not remembered", {
      category: "theft", description: "Mất xe máy trước nhà văn hóa", location: { not_remembered: true },
      occurred_at: undefined, urgency: "normal", source: { kind: "observed" }, suspects: [],
    }],
    ["named informant, household, time, suspects", {
      category: "drugs", description: "Tụ tập sử dụng ma túy ở nhà hoang", location: { text: "hẻm 12", household_id: "h1" },
      occurred_at: new Date(2026, 10, 20, 22, 15).toISOString(), urgency: "urgent",
      source: { kind: "resident", informant: { kind: "named", name: "Bà Tư", phone: "0912345678" } },
      suspects: [{ name_or_alias: "Tý", description: "gầy" }, { name_or_alias: "Hùng", description: undefined }],
    }],
    ["named informant with a confidential note, before sending", {
      category: "fraud", description: "Gọi điện giả công an đòi chuyển tiền", location: { text: "tổ 3", household_id: undefined },
      occurred_at: undefined, urgency: "normal",
      source: { kind: "resident", informant: { kind: "named", name: "Bà Tư", phone: undefined } },
      suspects: [], confidential_note: "Nhà đối diện",
    }],
    ["a sealed source, once the ward has the tip", {
      category: "drugs", description: "Tụ tập sử dụng ma túy ở nhà hoang", location: { text: "hẻm 12", household_id: undefined },
      occurred_at: undefined, urgency: "normal", source: { kind: "resident", informant: { kind: "sealed" } }, suspects: [],
      sealed: { key_id: "6c9cc04044c92048", ward: "hht", rev: 1, enc: "ZW5j", ciphertext: "Y3Q=" },
    }],
    ["anonymous informant", {
      category: "gambling", description: "Đánh bạc ăn tiền mỗi tối", location: { text: "quán nước", household_id: undefined },
      occurred_at: undefined, urgency: "normal", source: { kind: "resident", informant: { kind: "anonymous" } }, suspects: [],
    }],
  ])("a stored tip opens in the form unchanged: %s", (_, tip) => {
    expect(tipFromForm(tipToForm(tip))).toEqual(tip);
  });
});

describe("sealed sources", () => {
  const sealed = { key_id: "6c9cc04044c92048", ward: "hht", rev: 1, enc: "ZW5j", ciphertext: "Y3Q=" };
  it("keeps a sealed source as it is and never sends a note beside it", () => {
    const f = { ...emptyTipForm(), source: "named" as const, sealed, sealedInformant: true, confidentialNote: "x" };
    const tip = tipFromForm(f);
    expect(tip.source).toEqual({ kind: "resident", informant: { kind: "sealed" } });
    expect(tip.sealed).toEqual(sealed);
    expect(tip.confidential_note).toBeUndefined();
  });
  it("entering the source again drops the sealed block", () => {
    const f = { ...emptyTipForm(), source: "named" as const, sealed: null, informantName: "Ông Năm" };
    const tip = tipFromForm(f);
    expect(tip.sealed).toBeUndefined();
    expect(tip.source).toEqual({ kind: "resident", informant: { kind: "named", name: "Ông Năm", phone: undefined } });
  });
});

describe("errors", () => {
  it("reads the fields an invalid error names, and nothing from others", () => {
    expect(invalidFields({ code: "invalid-input", message: "m", fields: [
      { field: "description", code: "too-short", min: 10 }, { field: "suspects[1].name_or_alias", code: "too-long" },
    ] })).toEqual(["description", "suspects[1].name_or_alias"]);
    expect(invalidFields({ code: "csv-invalid", message: "m", fields: { line: 3 } })).toEqual([]);
    expect(invalidFields({ code: "internal", message: "m" })).toEqual([]);
  });
});

describe("history", () => {
  it("opens drafts and returned reports in their own form, nothing else", () => {
    expect(["draft", "queued", "sent", "quarantined"].filter((s) => editable(s as never))).toEqual(["draft", "quarantined"]);
    expect(editScreen("tip")).toBe("tip");
    expect(editScreen("inspection")).toBe("inspect");
    expect(editScreen("id-count")).toBe("count");
  });
  it("shows the server's reason only while the report is returned", () => {
    const rejection = { code: "invalid" as const, message: "Nội dung: cần ít nhất 10 ký tự" };
    expect(returnedReason({ status: "quarantined", rejection })).toEqual(rejection);
    expect(returnedReason({ status: "draft", rejection })).toBeNull();
    expect(returnedReason({ status: "quarantined", rejection: null })).toBeNull();
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

// The plan as the engine gives it for a home without a business: the
// business item does not apply and is not asked.
const plan: InspectionPlan = { household: home, template, items: template.items.slice(0, 2) };

describe("inspection wizard", () => {
  it("sends what was answered, and a violation only with its fix and deadline", () => {
    const a = emptyAnswers(plan.items);
    a.electrical = { answer: "fail", note: "dây câu móc", fix: "Đi lại dây", deadline: "2026-12-30", photos: [] };
    a["smoke-alarm"] = { answer: "pass", note: "", fix: "", deadline: "", photos: [] };
    const extras = {
      inspector: "Tổ trưởng", member: "Chị Lan", reinspectOn: "2027-01-05", notes: " ", inspectedAt: "2026-11-26T03:00:00.000Z",
    };
    const i = inspectionFrom(plan, a, extras);
    // Nothing is filled in for the item that does not apply: the engine does that.
    expect(i.answers.map((x) => [x.item, x.answer])).toEqual([["electrical", "fail"], ["smoke-alarm", "pass"]]);
    expect(i.violations).toEqual([{ item: "electrical", fix: "Đi lại dây", deadline: "2026-12-30" }]);
    expect(i.template).toEqual({ id: "pccc-household", version: 1 });
    expect(i.acknowledged_by).toBe("Chị Lan");
    expect(i.reinspect_on).toBe("2027-01-05");
    expect(i.notes).toBeUndefined();
    expect(i.inspected_at).toBe("2026-11-26T03:00:00.000Z");
    // Photos stay with a failed item only.
    const photo = { sha256: "ab".repeat(32), bytes: 1000, width: 1200, height: 1600, mime: "image/jpeg" };
    a.electrical.photos = [photo];
    a["smoke-alarm"].photos = [photo];
    const withPhotos = inspectionFrom(plan, a, extras);
    expect(withPhotos.answers[0].photos).toEqual([photo]);
    expect(withPhotos.answers[1].photos).toBeUndefined();
    expect(inspectionToForm(withPhotos).answers.electrical.photos).toEqual([photo]);
    // A returned inspection opens with its answers and extras, and saves the same.
    const back = inspectionToForm(i);
    expect(back.extras).toEqual({ ...extras, notes: "" });
    expect(inspectionFrom(plan, back.answers, back.extras)).toEqual(i);
  });
  it("never turns an unanswered item into a pass, nor drops a failure's missing fix silently", () => {
    const a = emptyAnswers(plan.items);
    a.electrical = { answer: "fail", note: "", fix: "Đi lại dây", deadline: "", photos: [] };
    const i = inspectionFrom(plan, a, { inspector: "T", member: "", reinspectOn: "", notes: "", inspectedAt: "2026-11-26T03:00:00.000Z" });
    // The unanswered smoke alarm is absent (the engine reports `missing-answer`),
    // the failure stays a failure without a violation (`fix-required`).
    expect(i.answers).toEqual([{ item: "electrical", answer: "fail", note: undefined, photos: undefined }]);
    expect(i.violations).toEqual([]);
  });
  it("maps the engine's problem fields to the step of their item", () => {
    const checked = {
      household_id: "h1", inspected_at: "2026-11-26T03:00:00Z", inspector: "T", template: { id: "pccc-household", version: 1 },
      answers: [{ item: "electrical", answer: "fail" as const }, { item: "smoke-alarm", answer: "pass" as const }],
      violations: [{ item: "electrical", fix: "x", deadline: "2026-11-01" }],
    };
    expect(itemOfField("answers.smoke-alarm", checked)).toBe("smoke-alarm");
    expect(itemOfField("answers.electrical.fix", checked)).toBe("electrical");
    expect(itemOfField("answers[1].note", checked)).toBe("smoke-alarm");
    expect(itemOfField("violations[0].deadline", checked)).toBe("electrical");
    expect(itemOfField("violations[4].deadline", checked)).toBeNull();
    expect(itemOfField("inspector", checked)).toBeNull();
  });
});

describe("the engine's problems, in the leader's language", () => {
  it("fills a rule's limits and keeps one message per field", () => {
    const problems = [
      { field: "description", code: "too-short" as const, min: 10 },
      { field: "activated", code: "exceeds-collected" as const },
      { field: "activated", code: "out-of-range" as const, min: 0, max: COUNT_MAX },
    ];
    expect(ruleMessage(problems[0], "vi")).toBe(table["rule.too-short"].vi.replace("{min}", "10"));
    expect(ruleMessage(problems[0], "en")).toContain("10");
    expect(problemsByField(problems, "en")).toEqual({
      description: table["rule.too-short"].en.replace("{min}", "10"),
      activated: table["rule.exceeds-collected"].en,
    });
  });
  it("has a message for every rule the engine can break", () => {
    for (const code of ["fix-required", "missing-answer", "before-inspection", "in-future", "too-many"]) {
      expect(table["rule." + code], code).toBeDefined();
    }
  });
  it("steppers stay whole and within the engine's range", () => {
    expect(step(0, -1)).toBe(0);
    expect(step(4.7, 1)).toBe(5);
    expect(step(Number.NaN, 1)).toBe(1);
    expect(step(COUNT_MAX, 1)).toBe(COUNT_MAX);
    expect(COUNT_MAX).toBe(100000);
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

describe("network words", () => {
  it.each([
    ["wifi", "wifi"], ["ethernet", "wired"], ["cellular", "cellular"], ["wimax", "cellular"],
    ["none", "offline"], ["bluetooth", "unknown"], ["other", "unknown"], [undefined, "unknown"],
  ] as const)("connection type %s is %s", (type, kind) => expect(networkFromConnection(type)).toBe(kind));
  it("names every network kind in both languages", () => {
    const kinds: NetworkKind[] = ["unknown", "offline", "wifi", "wired", "cellular"];
    for (const k of kinds) {
      expect(table[`network.${k}`]?.vi, k).toBeTruthy();
      expect(table[`network.${k}`]?.en, k).toBeTruthy();
    }
    expect(translate("vi", "ui.home.waiting-wifi", { network: translate("vi", "network.cellular") }))
      .toBe("Đang chờ Wi-Fi để gửi (máy đang dùng dữ liệu di động).");
  });
});

describe("sizes", () => {
  it("reads as a person would say it", async () => {
    const { formatBytes } = await import("./logic");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(272_000)).toBe("272 KB");
    expect(formatBytes(3_250_000)).toBe("3,3 MB");
    expect(formatBytes(3_250_000, "en")).toBe("3.3 MB");
  });
});
