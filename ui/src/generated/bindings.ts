// Generated from the Rust types by src-tauri/src/bindings.rs. Do not edit:
// run `SOTAY_BLESS=1 cargo test -p sotay-app bindings` after changing them.

export type AppError = { code: AppCode, message: string, fields?: JsonValue, };
export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;
export type ErrorCode = "invalid-input" | "csv-invalid" | "not-initialized" | "already-initialized" | "not-found" | "kind-mismatch" | "storage" | "storage-full" | "storage-corrupt" | "storage-key-missing" | "keystore" | "photo-unreadable" | "photo-too-large" | "io";
export type AppSettings = { lang: Lang, 
/**
 * Sync only on Wi-Fi (where the platform can tell), else on any network.
 */
wifi_only: boolean, 
/**
 * Send photos on mobile data too; by default photos wait for Wi-Fi
 * while reports go on any network the leader allows.
 */
photos_on_mobile_data: boolean, };
export type Lang = "vi" | "en";
export type Home = { place: DevicePlace | null, sync: SyncStatus, 
/**
 * The ward's latest decisions on this device's tips, newest first.
 */
decisions: Array<ReportSummary>, count: CountProgress, 
/**
 * Photos still to send, after their reports.
 */
photos: PhotoQueue, 
/**
 * The ward's announcements, urgent ones first, then the newest.
 */
announcements: Array<StoredAnnouncement>, 
/**
 * The group's running campaigns, ending soonest first.
 */
campaigns: Array<CampaignCard>, };
export type CountProgress = { 
/**
 * The latest count that is not a draft, if any.
 */
latest: IdCount | null, 
/**
 * Residents in the household register (the sum of its households).
 */
register_residents: number, 
/**
 * The residents the progress is measured against: the latest count's,
 * or else the register's.
 */
residents: number, collected: number, activated: number, };
export type HouseholdRow = { household: Household, mark: InspectionMark, last: LastInspection | null, };
export type InspectionMark = "not-inspected" | "passed" | "failed" | "reinspection-due";
export type LastInspection = { report_id: ReportId, status: ReportStatus, day: string, result: InspectionResult, 
/**
 * When it falls due again
 * ([`sotay_domain::inspection::Inspection::reinspection_due`]).
 */
due: string | null, };
export type ListFilter = { kind: ReportKind | null, status: ReportStatus | null, category: TipCategory | null, 
/**
 * The report's day (count date, inspection day, day it happened) from…
 */
from: string | null, 
/**
 * …to, inclusive.
 */
to: string | null, 
/**
 * Page size; 0 means the default of 50. At most 500.
 */
limit: number, offset: number, };
export type Page<T> = { items: Array<T>, 
/**
 * How many match the filter in all.
 */
total: number, limit: number, offset: number, };
export type ReportSummary = { id: ReportId, kind: ReportKind, status: ReportStatus, rev: number, day: string, category: TipCategory | null, 
/**
 * A one-line title in Vietnamese.
 */
title: string, created_at: string, updated_at: string, receipt: Receipt | null, 
/**
 * The ward's decision on a tip, once pulled.
 */
ward_status: WardStatus | null, 
/**
 * Why the server refused it, when quarantined.
 */
rejection: Rejection | null, };
export type SearchResults = { reports: Array<ReportSummary>, households: Array<Household>, };
export type SyncStatus = { enrolled: boolean, server_url: string | null, 
/**
 * Reports waiting to reach the server.
 */
pending: number, 
/**
 * Reports the server holds (with a receipt).
 */
sent: number, 
/**
 * Reports the server refused, waiting for the leader.
 */
quarantined: number, drafts: number, 
/**
 * Changes (revisions) waiting in the outbox.
 */
pending_changes: number, last_sync: string | null, last_error: LastError | null, 
/**
 * Where the data key is kept: the OS keystore, or a private file.
 */
key_storage: KeyPlace, 
/**
 * The device's ward and group codes (after any merge, split or
 * rename the ward made), once it has a place.
 */
ward: string | null, group: string | null, 
/**
 * The one line about the last change of the device's group, in the
 * leader's language, if the ward made one.
 */
place_notice: string | null, };
export type LastError = { code: Code, message: string, };
export type LockStatus = { pin_set: boolean, locked: boolean, 
/**
 * Seconds before the next attempt is taken.
 */
wait_seconds: number, failures: number, 
/**
 * Whether the device is enrolled (a PIN is chosen after enrollment).
 */
enrolled: boolean, 
/**
 * Changes not yet on the server: what erasing would lose.
 */
unsent: number, };
export type UnlockOutcome = { "outcome": "unlocked" } | { "outcome": "wrong", failures: number, wait_seconds: number, } | { "outcome": "wait", wait_seconds: number, };
export type KeyPlace = "keystore" | "file";
export type SyncEvent = { "type": "started" } | { "type": "progress" } & Progress | { "type": "finished" } & SyncReport | { "type": "failed", code: Code, message: string, } | { "type": "waiting-for-network", network: NetworkKind, };
export type Progress = { phase: Phase, changes_done: number, changes_total: number, bytes_done: number, bytes_total: number, };
export type Phase = "push" | "pull" | "photos";
export type SyncReport = { accepted: number, rejected: number, 
/**
 * Changes sent again because the server had lost them.
 */
resent: number, pulled: number, requests: number, bytes_sent: number, bytes_received: number, 
/**
 * Changes still waiting (0 when everything queued reached the server).
 */
pending: number, 
/**
 * Photos the server now holds whole (sent now, or found there).
 */
photos_sent: number, 
/**
 * Photos still waiting (for Wi-Fi, for a retry, for their report).
 */
photos_pending: number, 
/**
 * Announcement photos fetched now.
 */
photos_received: number, 
/**
 * Announcement photos still to fetch (a failed fetch, or photos not
 * allowed on this network): the next sync tries again.
 */
photos_to_fetch: number, };
export type LoopState = "idle" | "syncing" | "offline" | "waiting-for-wifi" | "stopped";
export type LoopStatus = { state: LoopState, network: NetworkKind, };
export type NetworkKind = "unknown" | "offline" | "wifi" | "wired" | "cellular";
export type Household = { id: HouseholdId, address: string, 
/**
 * Head of household (chủ hộ).
 */
head: string, residents: number, phone?: string | null, 
/**
 * Home with a business (nhà ở kết hợp kinh doanh).
 */
has_business: boolean, 
/**
 * Rents out rooms (nhà trọ, phòng cho thuê).
 */
rents_rooms: boolean, notes?: string | null, };
export type HouseholdInput = { address: string, 
/**
 * Head of household (chủ hộ).
 */
head: string, residents: number, phone?: string | null, 
/**
 * Home with a business (nhà ở kết hợp kinh doanh).
 */
has_business: boolean, 
/**
 * Rents out rooms (nhà trọ, phòng cho thuê).
 */
rents_rooms: boolean, notes?: string | null, };
export type HouseholdId = string;
export type ReportId = string;
export type AnnouncementId = string;
export type Announcement = { id: AnnouncementId, title: string, text: string, 
/**
 * Shown first, and raised as a notification that asks for attention.
 */
urgent: boolean, sent_at: string, 
/**
 * A photo the ward attached (a wanted person, a scam's screenshot),
 * made by the server as devices make theirs (upright, at most 1600
 * px, no metadata); the device fetches it by its hash.
 */
photo?: PhotoRef | null, };
export type StoredAnnouncement = { 
/**
 * The leader marked it read.
 */
read: boolean, read_at: string | null, 
/**
 * Its photo is on the phone (fetched after the pull; until then the
 * card shows none).
 */
photo_saved: boolean, id: AnnouncementId, title: string, text: string, 
/**
 * Shown first, and raised as a notification that asks for attention.
 */
urgent: boolean, sent_at: string, 
/**
 * A photo the ward attached (a wanted person, a scam's screenshot),
 * made by the server as devices make theirs (upright, at most 1600
 * px, no metadata); the device fetches it by its hash.
 */
photo?: PhotoRef | null, };
export type CampaignId = string;
export type Campaign = { id: CampaignId, title: string, 
/**
 * The first day (Vietnam), inclusive.
 */
starts_on: string, 
/**
 * The last day (Vietnam), inclusive.
 */
ends_on: string, } & ({ "kind": "fire-safety", target: number, households: HouseholdScope, } | { "kind": "id06", target: number, } | { "kind": "tips", target: number, categories?: Array<TipCategory>, } | { "kind": "unknown" });
export type CampaignCard = { 
/**
 * The target in words, in the app's language.
 */
goal: string, 
/**
 * Days after today until the end (0: today is the last day).
 */
days_left: number, 
/**
 * Fire safety: the households in scope not yet inspected within the
 * period, nearest first by address order; empty for other kinds.
 */
remaining: Array<RemainingHousehold>, 
/**
 * When the server's figures were fetched.
 */
fetched_at: string, id: CampaignId, title: string, 
/**
 * The first day (Vietnam), inclusive.
 */
starts_on: string, 
/**
 * The last day (Vietnam), inclusive.
 */
ends_on: string, } & ({ "kind": "fire-safety", target: number, households: HouseholdScope, } | { "kind": "id06", target: number, } | { "kind": "tips", target: number, categories?: Array<TipCategory>, } | { "kind": "unknown" }) & { 
/**
 * Households inspected, residents activated, or tips written.
 */
count: number, 
/**
 * Households in scope, residents, or tips needed (the target times
 * the groups).
 */
of: number, 
/**
 * Progress in the target's unit: a percentage (rounded down to a
 * tenth) for fire safety and Đề án 06, a number of tips for tips.
 */
done: number, 
/**
 * The target is reached.
 */
reached: boolean, 
/**
 * How many more households, residents or tips reach the target.
 */
left: number, 
/**
 * Progress against the target: 1.0 is the target, more beats it.
 * What units are ranked by.
 */
ratio: number, 
/**
 * Units whose figures are unknown (no register, no count).
 */
unknown: number, 
/**
 * `count` of `of` in percent, rounded down to a tenth (0 when `of`
 * is 0): what bars, charts and reports show, whatever the kind.
 */
share: number, 
/**
 * Nothing to do: no household in scope (a fire-safety campaign over
 * homes with a business, in a group that has none) or no resident,
 * and no unit unknown. Counts as reached.
 */
nothing_to_do: boolean, };
export type CampaignKind = "fire-safety" | "id06" | "tips";
export type Goal = { "kind": "fire-safety", target: number, households: HouseholdScope, } | { "kind": "id06", target: number, } | { "kind": "tips", target: number, categories?: Array<TipCategory>, } | { "kind": "unknown" };
export type HouseholdScope = "all" | "business" | "rents-rooms";
export type Standing = { 
/**
 * Households inspected, residents activated, or tips written.
 */
count: number, 
/**
 * Households in scope, residents, or tips needed (the target times
 * the groups).
 */
of: number, 
/**
 * Progress in the target's unit: a percentage (rounded down to a
 * tenth) for fire safety and Đề án 06, a number of tips for tips.
 */
done: number, 
/**
 * The target is reached.
 */
reached: boolean, 
/**
 * How many more households, residents or tips reach the target.
 */
left: number, 
/**
 * Progress against the target: 1.0 is the target, more beats it.
 * What units are ranked by.
 */
ratio: number, 
/**
 * Units whose figures are unknown (no register, no count).
 */
unknown: number, 
/**
 * `count` of `of` in percent, rounded down to a tenth (0 when `of`
 * is 0): what bars, charts and reports show, whatever the kind.
 */
share: number, 
/**
 * Nothing to do: no household in scope (a fire-safety campaign over
 * homes with a business, in a group that has none) or no resident,
 * and no unit unknown. Counts as reached.
 */
nothing_to_do: boolean, };
export type RemainingHousehold = { id: HouseholdId, address: string, head: string, };
export type ChecklistTemplate = { id: string, version: number, title: Text, items: Array<ChecklistItem>, };
export type ChecklistItem = { 
/**
 * Stable kebab-case code, e.g. `escape-routes`.
 */
code: string, 
/**
 * 1-based position shown to the leader.
 */
number: number, label: Text, 
/**
 * Required items decide the result; recommended ones do not.
 */
required: boolean, applies: Applies, };
export type Applies = "all" | "has-business";
export type Text = { vi: string, en: string, };
export type Report = { id: ReportId, status: ReportStatus, 
/**
 * Revision, from 1. Grows only when a sent report is edited.
 */
rev: number, created_at: string, updated_at: string, receipt?: Receipt | null, 
/**
 * The ward's decision (tips only), once pulled.
 */
ward?: WardDecision | null, 
/**
 * Why the server refused the current revision, when `quarantined`.
 */
rejection?: Rejection | null, } & ({ "kind": "tip", "body": Tip } | { "kind": "inspection", "body": Inspection } | { "kind": "id-count", "body": IdCount });
export type ReportBody = { "kind": "tip", "body": Tip } | { "kind": "inspection", "body": Inspection } | { "kind": "id-count", "body": IdCount };
export type ReportKind = "tip" | "inspection" | "id-count";
export type ReportStatus = "draft" | "queued" | "sent" | "quarantined";
export type Receipt = { server_seq: number, received_at: string, };
export type WardDecision = { status: WardStatus, note?: string | null, decided_at: string, };
export type WardStatus = "received" | "verifying" | "resolved" | "unfounded";
export type Rejection = { code: RejectionCode, 
/**
 * The server's words (Vietnamese), or, when `fields` says which rules
 * broke, those rules in the leader's language.
 */
message: string, fields?: Array<FieldError>, };
export type Tip = { category: TipCategory, description: string, location: Location, 
/**
 * When it happened, if known.
 */
occurred_at?: string | null, urgency: Urgency, source: Source, suspects?: Array<Suspect>, 
/**
 * Ghi chú mật: a note for the officers allowed to know sources, in
 * clear only on the device before the tip is sent (see the module).
 */
confidential_note?: string | null, 
/**
 * The informant's identity and the confidential note, sealed to the
 * ward's source key.
 */
sealed?: SealedSource | null, 
/**
 * Evidence photos (screenshots of a scam, the place), at most
 * [`crate::photo::TIP_PHOTOS_MAX`]; the photos travel apart.
 */
photos?: Array<PhotoRef>, };
export type TipCategory = "drugs" | "theft" | "gambling" | "loan-sharking" | "fraud" | "suspicious-person" | "unregistered-residence" | "public-disorder" | "traffic" | "urban-order" | "fire-hazard" | "other";
export type Urgency = "normal" | "urgent";
export type Location = { text?: string | null, household_id?: HouseholdId | null, gps?: Gps | null, not_remembered?: boolean, };
export type Gps = { lat: number, lon: number, accuracy_m?: number | null, };
export type Source = { "kind": "observed" } | { "kind": "resident", informant: Informant, };
export type Informant = { "kind": "anonymous" } | { "kind": "named", name?: string | null, phone?: string | null, } | { "kind": "sealed" } | { "kind": "erased" };
export type SealedSource = { 
/**
 * The id of the ward key it is sealed to.
 */
key_id: string, 
/**
 * The ward code it was sealed for.
 */
ward: string, 
/**
 * The revision it was sealed at: a later revision that keeps the
 * source unchanged carries the block as it was.
 */
rev: number, 
/**
 * The encapsulated key, base64.
 */
enc: string, 
/**
 * The sealed [`SourceSecret`], base64.
 */
ciphertext: string, };
export type Suspect = { name_or_alias?: string | null, description?: string | null, };
export type Inspection = { household_id: HouseholdId, inspected_at: string, inspector: string, template: TemplateRef, answers: Array<ItemAnswer>, violations?: Array<Violation>, reinspect_on?: string | null, acknowledged_by?: string | null, notes?: string | null, };
export type TemplateRef = { id: string, version: number, };
export type ItemAnswer = { item: string, answer: Answer, note?: string | null, 
/**
 * Photos of what failed, at most [`crate::photo::ITEM_PHOTOS_MAX`],
 * only on a failed item; the photos travel apart.
 */
photos?: Array<PhotoRef>, };
export type Answer = "pass" | "fail" | "not-applicable";
export type Violation = { item: string, fix: string, deadline: string, };
export type InspectionResult = "pass" | "fail";
export type IdCount = { date: string, 
/**
 * Residents in scope.
 */
residents: number, 
/**
 * Accounts collected (thu nhận hồ sơ).
 */
collected: number, 
/**
 * Accounts activated at level 2 (kích hoạt mức 2).
 */
activated: number, 
/**
 * People helped to install the app.
 */
helped: number, };
export type DevicePlace = { ward: Place, block: Place, group: Place, };
export type Place = { code: PlaceCode, name: string, };
export type PlaceCode = string;
export type PhotoRef = { 
/**
 * SHA-256 of the JPEG's bytes, 64 lowercase hex digits: the photo's
 * name everywhere.
 */
sha256: string, bytes: number, width: number, height: number, 
/**
 * Always [`PHOTO_MIME`].
 */
mime: string, };
export type PhotoQueue = { 
/**
 * Photos still to send, and their bytes.
 */
pending: number, pending_bytes: number, 
/**
 * Photos the server holds.
 */
sent: number, };
export type InspectionPlan = { household: Household, template: ChecklistTemplate, 
/**
 * The template's items that apply to this household, in order.
 */
items: Array<ChecklistItem>, };
export type ReportCheck = { 
/**
 * Every rule the report still breaks; empty when it may be sent.
 */
problems: Array<FieldError>, 
/**
 * An inspection's derived result ([`sotay_domain::inspection::Inspection::result`]).
 */
result: InspectionResult | null, 
/**
 * When an inspection's household falls due again
 * ([`sotay_domain::inspection::Inspection::reinspection_due`]).
 */
reinspection_due: string | null, 
/**
 * The report as the engine checked it (trimmed, and an inspection
 * completed): the value the problems' indexed fields refer to.
 */
body: ReportBody, };
export type FieldError = { field: string, } & ({ "code": "required" } | { "code": "too-short", min: number, } | { "code": "too-long", max: number, } | { "code": "out-of-range", min: number, max: number, } | { "code": "too-many", max: number, } | { "code": "in-future" } | { "code": "too-old" } | { "code": "bad-format" } | { "code": "unknown-code", allowed: Array<string>, } | { "code": "location-required" } | { "code": "location-conflict" } | { "code": "exceeds-collected" } | { "code": "exceeds-residents" } | { "code": "before-inspection" } | { "code": "unknown-item" } | { "code": "missing-answer" } | { "code": "duplicate" } | { "code": "not-applicable" } | { "code": "item-not-failed" } | { "code": "fix-required" } | { "code": "not-found" } | { "code": "source-sealed" } | { "code": "too-simple" } | { "code": "before-start" } | { "code": "period-too-long", max: number, } | { "code": "in-past" } | { "code": "too-far-ahead", max: number, });
export type Rule = { "code": "required" } | { "code": "too-short", min: number, } | { "code": "too-long", max: number, } | { "code": "out-of-range", min: number, max: number, } | { "code": "too-many", max: number, } | { "code": "in-future" } | { "code": "too-old" } | { "code": "bad-format" } | { "code": "unknown-code", allowed: Array<string>, } | { "code": "location-required" } | { "code": "location-conflict" } | { "code": "exceeds-collected" } | { "code": "exceeds-residents" } | { "code": "before-inspection" } | { "code": "unknown-item" } | { "code": "missing-answer" } | { "code": "duplicate" } | { "code": "not-applicable" } | { "code": "item-not-failed" } | { "code": "fix-required" } | { "code": "not-found" } | { "code": "source-sealed" } | { "code": "too-simple" } | { "code": "before-start" } | { "code": "period-too-long", max: number, } | { "code": "in-past" } | { "code": "too-far-ahead", max: number, };
export type EnrollLink = { server: string, code: string, 
/**
 * The SHA-256 of the server's TLS public key, when the link pins it.
 */
pin: string | null, };
export type AppCode = Code | ShellCode;
export type ShellCode = "app-locked" | "internal";
export type Code = ErrorCode | SyncCode | ServerCode;
export type SyncCode = "not-enrolled" | "sync-busy" | "unauthorized" | "network" | "bad-address" | "protocol" | "no-source-key" | "insecure-address" | "server-key-mismatch" | "other-server" | "device-revoked";
export type ServerCode = "malformed-json" | "invalid-request" | "bad-body" | "bad-query" | "unauthorized" | "token-revoked" | "enroll-code-invalid" | "enroll-code-used" | "enroll-code-expired" | "too-large" | "batch-too-large" | "rate-limited" | "unsupported-media-type" | "not-found" | "method-not-allowed" | "timeout" | "bad-request" | "bad-photo-name" | "bad-photo-length" | "photo-not-listed" | "photo-offset" | "photo-too-large" | "photo-hash-mismatch" | "internal" | "unknown";
export type RejectionCode = "bad-payload" | "invalid" | "unknown-template" | "out-of-range" | "seq-reused" | "forbidden" | "kind-mismatch" | "count-id-mismatch" | "source-key-unknown" | "source-misplaced" | "unknown";
export type Boot = { settings: AppSettings, lock: LockStatus, 
/**
 * `None` while locked: nothing else is read before the PIN.
 */
home: Home | null, sync: LoopStatus | null, };

/** Most photos on a tip, and on one failed checklist item (the engine's limits). */
export const TIP_PHOTOS_MAX = 5;
export const ITEM_PHOTOS_MAX = 3;

/** The largest figure a Đề án 06 count accepts (sotay_domain::count::COUNT_MAX). */
export const COUNT_MAX = 100000;

/** Every command: its arguments and its result. */
export interface Commands {
  boot: { args: {  }; result: Boot };
  painted: { args: {  }; result: null };
  home: { args: {  }; result: Home };
  enroll: { args: { server: string | null; code: string | null; link: string | null }; result: SyncStatus };
  sync_now: { args: {  }; result: boolean };
  sync_now_any_network: { args: {  }; result: boolean };
  sync_state: { args: {  }; result: LoopStatus | null };
  report_network: { args: { kind: NetworkKind }; result: null };
  save_report: { args: { id: ReportId | null; body: ReportBody; send: boolean }; result: Report };
  send_report: { args: { id: ReportId }; result: Report };
  report: { args: { id: ReportId }; result: Report };
  list_reports: { args: { filter: ListFilter }; result: Page<ReportSummary> };
  search: { args: { text: string }; result: SearchResults };
  households: { args: { query: string | null }; result: Array<HouseholdRow> };
  add_household: { args: { input: HouseholdInput }; result: Household };
  update_household: { args: { id: HouseholdId; input: HouseholdInput }; result: Household };
  remove_household: { args: { id: HouseholdId }; result: null };
  mark_announcement_read: { args: { id: AnnouncementId }; result: Home };
  import_households: { args: { csv: string }; result: Array<Household> };
  next_uninspected: { args: {  }; result: Household | null };
  inspection_plan: { args: { household: HouseholdId }; result: InspectionPlan };
  check_report: { args: { body: ReportBody }; result: ReportCheck };
  read_enroll_link: { args: { link: string }; result: EnrollLink };
  count_progress: { args: {  }; result: CountProgress };
  settings: { args: {  }; result: AppSettings };
  save_settings: { args: { settings: AppSettings }; result: AppSettings };
  lock_status: { args: {  }; result: LockStatus };
  set_pin: { args: { pin: string }; result: LockStatus };
  unlock: { args: { pin: string }; result: UnlockOutcome };
  app_hidden: { args: {  }; result: null };
  app_visible: { args: {  }; result: boolean };
  erase_device: { args: {  }; result: LockStatus };
  add_photo: { args: { data: string }; result: PhotoRef };
  photo: { args: { sha256: string }; result: string };
  photo_queue: { args: {  }; result: PhotoQueue };
}

/** Events from the app, by name. */
export interface Events {
  sync: SyncEvent;
}
