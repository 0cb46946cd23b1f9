// The UI's own logic, kept out of the components so Vitest can test it.
import type {
  ChecklistItem, FieldError, Informant, Inspection, InspectionPlan, ItemAnswer, Answer, Lang,
  NetworkKind, PhotoRef, Rejection, Report, ReportKind, ReportStatus,
  SealedSource, Suspect, Tip, TipCategory, Violation, Source,
} from "./generated/bindings";
import { COUNT_MAX } from "./generated/bindings";
import { translate } from "./i18n";

/** Icons for the category picker (emoji: no image files, no text in images). */
export const categoryIcons: Record<TipCategory, string> = {
  drugs: "💊", theft: "🎒", gambling: "🎲", "loan-sharking": "💸", fraud: "📱",
  "suspicious-person": "🕵", "unregistered-residence": "🏠", "public-disorder": "📢",
  traffic: "🚦", "urban-order": "🏙", "fire-hazard": "🔥", other: "📝",
};

export type SourceChoice = "observed" | "named" | "anonymous";

/** One suspect as the form holds it. */
export interface SuspectForm { name: string; description: string }

/** What the tip form holds while the leader types. */
export interface TipForm {
  category: TipCategory;
  description: string;
  locationText: string;
  householdId: string;
  notRemembered: boolean;
  /** When it happened, as a `datetime-local` value in the phone's time, or "". */
  occurredAt: string;
  urgent: boolean;
  source: SourceChoice;
  informantName: string;
  informantPhone: string;
  /** Ghi chú mật: sealed with the informant before the tip leaves the phone. */
  confidentialNote: string;
  /**
   * The source as the engine sealed it once the ward received the tip:
   * kept as it is (it cannot be read or edited here), or dropped by
   * "Nhập lại nguồn tin" to enter a new one.
   */
  sealed: SealedSource | null;
  /** The sealed block holds a named informant (not only a note). */
  sealedInformant: boolean;
  suspects: SuspectForm[];
  /** Evidence photos, as the engine took them in (its manifest entries). */
  photos: PhotoRef[];
}

export function emptyTipForm(): TipForm {
  return {
    category: "other", description: "", locationText: "", householdId: "", notRemembered: false,
    occurredAt: "", urgent: false, source: "observed", informantName: "", informantPhone: "",
    confidentialNote: "", sealed: null, sealedInformant: false, suspects: [], photos: [],
  };
}

const blank = (s: string | null | undefined) => (s == null || s.trim() === "" ? undefined : s.trim());

/** A `datetime-local` value (the phone's own time) as an instant, or undefined. */
export function instantFromLocal(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** An instant as a `datetime-local` value in the phone's own time. */
export function localFromInstant(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * The tip the form describes. "Không nhớ địa điểm" drops any place typed;
 * an anonymous informant keeps no name or phone; empty suspect rows are dropped.
 */
export function tipFromForm(f: TipForm): Tip {
  let source: Source = { kind: "observed" };
  if (f.sealed && f.sealedInformant) {
    source = { kind: "resident", informant: { kind: "sealed" } };
  } else if (f.source !== "observed") {
    const informant: Informant = f.source === "anonymous"
      ? { kind: "anonymous" }
      : { kind: "named", name: blank(f.informantName), phone: blank(f.informantPhone) };
    source = { kind: "resident", informant };
  }
  const suspects: Suspect[] = f.suspects
    .map((s) => ({ name_or_alias: blank(s.name), description: blank(s.description) }))
    .filter((s) => s.name_or_alias !== undefined || s.description !== undefined);
  return {
    category: f.category,
    description: f.description,
    location: f.notRemembered
      ? { not_remembered: true }
      : { text: blank(f.locationText), household_id: blank(f.householdId) },
    occurred_at: instantFromLocal(f.occurredAt),
    urgency: f.urgent ? "urgent" : "normal",
    source,
    suspects,
    confidential_note: f.sealed ? undefined : blank(f.confidentialNote),
    sealed: f.sealed ?? undefined,
    photos: f.photos.length ? f.photos : undefined,
  };
}

/** The form for a stored tip (a draft to finish, or a returned one to fix). */
export function tipToForm(t: Tip): TipForm {
  const informant = t.source.kind === "resident" ? t.source.informant : null;
  return {
    category: t.category,
    description: t.description,
    locationText: t.location.text ?? "",
    householdId: t.location.household_id ?? "",
    notRemembered: t.location.not_remembered ?? false,
    occurredAt: localFromInstant(t.occurred_at),
    urgent: t.urgency === "urgent",
    source: informant === null ? "observed" : informant.kind === "anonymous" ? "anonymous" : "named",
    informantName: informant?.kind === "named" ? (informant.name ?? "") : "",
    informantPhone: informant?.kind === "named" ? (informant.phone ?? "") : "",
    confidentialNote: t.confidential_note ?? "",
    sealed: t.sealed ?? null,
    sealedInformant: informant?.kind === "sealed",
    suspects: (t.suspects ?? []).map((s) => ({ name: s.name_or_alias ?? "", description: s.description ?? "" })),
    photos: t.photos ?? [],
  };
}

/**
 * Saves on every keystroke without racing itself: one save at a time, the
 * latest content always saved last, and the id of the first save reused.
 */
export class Autosaver<T> {
  id: string | null = null;
  private running: Promise<void> | null = null;
  private pending: T | null = null;
  constructor(private save: (id: string | null, value: T) => Promise<string>) {}

  /** Asks for `value` to be saved; resolves once it (or a later value) is. */
  push(value: T): Promise<void> {
    this.pending = value;
    if (!this.running) this.running = this.drain();
    return this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending !== null) {
        const v = this.pending;
        this.pending = null;
        this.id = await this.save(this.id, v);
      }
    } finally {
      this.running = null;
    }
  }

  /** Waits for any save in flight. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }
}

export interface StepAnswer {
  answer: Answer | null; note: string; fix: string; deadline: string;
  /** Photos of what failed (kept only while the item is a failure). */
  photos: PhotoRef[];
}

export function emptyAnswers(items: ChecklistItem[]): Record<string, StepAnswer> {
  return Object.fromEntries(items.map((i) => [i.code, { answer: null, note: "", fix: "", deadline: "", photos: [] }]));
}

/** The screen that edits a report of `kind`. */
export function editScreen(kind: ReportKind): "tip" | "inspect" | "count" {
  return kind === "tip" ? "tip" : kind === "inspection" ? "inspect" : "count";
}

/** Why the server returned `r`, while it is returned (quarantined); else null. */
export function returnedReason(r: Pick<Report, "status" | "rejection">): Rejection | null {
  return r.status === "quarantined" ? (r.rejection ?? null) : null;
}

/** Whether the leader may open a report to change it: drafts, and reports the ward returned. */
export function editable(status: ReportStatus): boolean {
  return status === "draft" || status === "quarantined";
}

/** What the summary step adds to the answers. */
export interface InspectionExtras {
  inspector: string;
  member: string;
  /** YYYY-MM-DD or "". */
  reinspectOn: string;
  notes: string;
  /** When the visit took place (kept when a returned inspection is fixed). */
  inspectedAt: string;
}

/**
 * The inspection the wizard describes, as the leader gave it: the items
 * answered so far and a violation for each failed item with its fix and
 * deadline. Nothing is filled in here: the engine answers what does not
 * apply, and reports an unanswered item or a failure without its fix
 * (`ReportCheck.problems`).
 */
export function inspectionFrom(
  plan: InspectionPlan, answers: Record<string, StepAnswer>, extras: InspectionExtras,
): Inspection {
  const items: ItemAnswer[] = plan.items.flatMap((i) => {
    const a = answers[i.code];
    if (!a?.answer) return [];
    return [{
      item: i.code,
      answer: a.answer,
      note: blank(a.note),
      photos: a.answer === "fail" && a.photos.length ? a.photos : undefined,
    }];
  });
  const violations: Violation[] = plan.items.flatMap((i) => {
    const a = answers[i.code];
    const fix = a?.fix.trim() ?? "";
    return a?.answer === "fail" && fix && a.deadline ? [{ item: i.code, fix, deadline: a.deadline }] : [];
  });
  return {
    household_id: plan.household.id, inspected_at: extras.inspectedAt, inspector: extras.inspector,
    template: { id: plan.template.id, version: plan.template.version }, answers: items, violations,
    reinspect_on: extras.reinspectOn || undefined,
    acknowledged_by: blank(extras.member),
    notes: blank(extras.notes),
  };
}

/**
 * The checklist item a field of the engine's problems is about (a step of
 * the wizard), or null: `answers.CODE`, `answers.CODE.fix`, and indexed
 * paths (`answers[3].note`, `violations[0].deadline`) read against the
 * inspection as the engine checked it.
 */
export function itemOfField(field: string, checked: Inspection): string | null {
  const byCode = field.match(/^answers\.([^.[\]]+)/);
  if (byCode) return byCode[1];
  const indexed = field.match(/^(answers|violations)\[(\d+)\]/);
  if (!indexed) return null;
  const n = Number(indexed[2]);
  const list: { item: string }[] = indexed[1] === "answers" ? checked.answers : (checked.violations ?? []);
  return list[n]?.item ?? null;
}

/** A broken rule in `lang`, its limits filled in ("cần ít nhất 10 ký tự"). */
export function ruleMessage(p: FieldError, lang: Lang): string {
  const vars: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(p)) {
    if (k !== "field" && k !== "code") vars[k] = Array.isArray(v) ? v.join(", ") : String(v);
  }
  return translate(lang, "rule." + p.code, vars);
}

/** The first message of each field's broken rules, by field. */
export function problemsByField(problems: FieldError[], lang: Lang): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of problems) out[p.field] ??= ruleMessage(p, lang);
  return out;
}

/** The wizard's answers and extras for a stored inspection (to fix a returned one). */
export function inspectionToForm(i: Inspection): { answers: Record<string, StepAnswer>; extras: InspectionExtras } {
  const answers: Record<string, StepAnswer> = {};
  for (const a of i.answers) {
    const v = (i.violations ?? []).find((x) => x.item === a.item);
    answers[a.item] = {
      answer: a.answer, note: a.note ?? "", fix: v?.fix ?? "", deadline: v?.deadline ?? "", photos: a.photos ?? [],
    };
  }
  return {
    answers,
    extras: {
      inspector: i.inspector, member: i.acknowledged_by ?? "", reinspectOn: i.reinspect_on ?? "",
      notes: i.notes ?? "", inspectedAt: i.inspected_at,
    },
  };
}

/** A stepper's next value: whole numbers within 0..COUNT_MAX (the engine's limit). */
export function step(value: number, delta: number, max = COUNT_MAX): number {
  const v = Math.trunc(Number.isFinite(value) ? value : 0) + delta;
  return Math.min(max, Math.max(0, v));
}

/** Percent of `part` in `whole`, 0–100, rounded down. */
export function percent(part: number, whole: number): number {
  if (whole <= 0) return 0;
  return Math.min(100, Math.floor((part * 100) / whole));
}

/** Today's date in Vietnam (UTC+7) as YYYY-MM-DD. */
export function vietnamToday(now: Date = new Date()): string {
  return new Date(now.getTime() + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

/** A timestamp shown in Vietnam's time, dd/mm/yyyy hh:mm. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(new Date(iso).getTime() + 7 * 3600 * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

/**
 * The network kind for a Network Information API `type`
 * (`navigator.connection.type`, which Android's WebView has and WebKitGTK
 * and iOS lack): what the engine's Wi-Fi-only policy needs to know.
 */
export function networkFromConnection(type: string | undefined | null): NetworkKind {
  switch (type) {
    case "wifi": return "wifi";
    case "ethernet": return "wired";
    case "cellular": case "wimax": return "cellular";
    case "none": return "offline";
    default: return "unknown";
  }
}

/** A size for people: "850 KB", "3,2 MB" (Vietnamese decimal comma in vi). */
export function formatBytes(n: number, lang: "vi" | "en" = "vi"): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${Math.round(n / 1000)} KB`;
  const mb = (n / 1_000_000).toFixed(1);
  return `${lang === "vi" ? mb.replace(".", ",") : mb} MB`;
}
