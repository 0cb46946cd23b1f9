// The closed lists the UI offers, in the domain's order. Typed by the
// generated unions, so a code the Rust side does not know fails to compile.
import type { ReportKind, ReportStatus, TipCategory } from "./generated/bindings";

export const TIP_CATEGORIES: TipCategory[] = [
  "drugs", "theft", "gambling", "loan-sharking", "fraud", "suspicious-person",
  "unregistered-residence", "public-disorder", "traffic", "urban-order", "fire-hazard", "other",
];
export const REPORT_KINDS: ReportKind[] = ["tip", "inspection", "id-count"];
export const REPORT_STATUSES: ReportStatus[] = ["draft", "queued", "sent", "quarantined"];
