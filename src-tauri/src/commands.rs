//! The app's commands: one-line adapters over the device engine. Each is
//! declared once more, with its arguments and result, in `command_list.rs`,
//! from which the permissions, the handler and the TypeScript types come.

use crate::error::AppError;
use crate::state::AppState;
use chrono::Utc;
use sotay_device::store::PhotoQueue;
use sotay_device::store::{Enrollment, LockStatus, SyncStatus, UnlockOutcome};
use sotay_device::sync::{EnrollLink, LoopStatus, NetworkKind};
use sotay_device::{
    AppSettings, CountProgress, Home, HouseholdRow, InspectionPlan, ListFilter, Page, ReportCheck,
    ReportSummary, Save, SearchResults,
};
use sotay_domain::household::{Household, HouseholdInput};
use sotay_domain::ids::{AnnouncementId, HouseholdId, ReportId};
use sotay_domain::photo::PhotoRef;
use sotay_domain::report::{Report, ReportBody};
use tauri::State;

type R<T> = Result<T, AppError>;

fn today() -> chrono::NaiveDate {
    sotay_domain::vietnam_date(Utc::now())
}

/// Everything the first screen needs, in one call: the settings (the
/// lock screen speaks the leader's language), the lock, and, when
/// unlocked, the home screen and the sync loop's state.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct Boot {
    pub settings: AppSettings,
    pub lock: LockStatus,
    /// `None` while locked: nothing else is read before the PIN.
    pub home: Option<Home>,
    pub sync: Option<LoopStatus>,
}

#[tauri::command(async)]
pub fn boot(state: State<'_, AppState>) -> R<Boot> {
    let locked = state.is_locked();
    let (settings, lock) =
        state.with_even_locked(|s| Ok((s.settings()?, LockStatus::read(s, locked)?)))?;
    let home = if locked {
        None
    } else {
        Some(state.with(|s| s.home())?)
    };
    Ok(Boot {
        settings,
        lock,
        home,
        sync: state.loop_status(),
    })
}

/// The window has painted its first screen: the background sync starts
/// now, so its first round never competes with the app's start.
#[tauri::command]
pub fn painted<R: tauri::Runtime>(app: tauri::AppHandle<R>, state: State<'_, AppState>) {
    state.start_sync(app);
}

#[tauri::command(async)]
pub fn home(state: State<'_, AppState>) -> R<Home> {
    state.with(|s| s.home())
}

/// Enrolls with a server and code, or a `sotay://enroll?…` link, then
/// starts the sync loop.
#[tauri::command]
pub async fn enroll<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    server: Option<String>,
    code: Option<String>,
    link: Option<String>,
) -> Result<SyncStatus, AppError> {
    let lang = state.lang();
    let link = EnrollLink::from_input(link.as_deref(), server.as_deref(), code.as_deref())
        .map_err(|e| AppError::sync(&e, lang))?;
    let _: Enrollment = state
        .client
        .enroll_with(&state.store, &link, "Sổ tay app")
        .await
        .map_err(|e| AppError::sync(&e, lang))?;
    state.start_sync(app);
    state.with(|s| s.sync_status())
}

/// "Đồng bộ ngay": returns whether a sync was asked for (false when not enrolled).
#[tauri::command]
pub fn sync_now(state: State<'_, AppState>) -> bool {
    state.sync_now()
}

/// "Gửi bằng dữ liệu di động lần này": one sync now even where the
/// Wi-Fi-only setting would wait. False when not enrolled.
#[tauri::command]
pub fn sync_now_any_network(state: State<'_, AppState>) -> bool {
    state.sync_now_any_network()
}

/// Where the background sync is (idle, syncing, offline, waiting for
/// Wi-Fi) and the network it sees; `None` before enrollment.
#[tauri::command]
pub fn sync_state(state: State<'_, AppState>) -> Option<LoopStatus> {
    state.loop_status()
}

/// The network type the window sees (`navigator.connection` on Android),
/// for the Wi-Fi-only setting; `unknown` leaves it to the platform's source.
#[tauri::command]
pub fn report_network(state: State<'_, AppState>, kind: NetworkKind) {
    state.report_network(kind);
}

/// Saves a report: autosaved as a draft, or queued when `send` ("Gửi").
#[tauri::command(async)]
pub fn save_report(
    state: State<'_, AppState>,
    id: Option<ReportId>,
    body: ReportBody,
    send: bool,
) -> R<Report> {
    state.with(|s| s.save_report(id, body, if send { Save::Send } else { Save::Draft }))
}

/// Queues a draft, or sends a quarantined report again.
#[tauri::command(async)]
pub fn send_report(state: State<'_, AppState>, id: ReportId) -> R<Report> {
    state.with(|s| s.send(id))
}

#[tauri::command(async)]
pub fn report(state: State<'_, AppState>, id: ReportId) -> R<Report> {
    state.with(|s| s.report(id))
}

#[tauri::command(async)]
pub fn list_reports(state: State<'_, AppState>, filter: ListFilter) -> R<Page<ReportSummary>> {
    state.with(|s| s.list(&filter))
}

#[tauri::command(async)]
pub fn search(state: State<'_, AppState>, text: String) -> R<SearchResults> {
    state.with(|s| s.search(&text, 100))
}

#[tauri::command(async)]
pub fn households(state: State<'_, AppState>, query: Option<String>) -> R<Vec<HouseholdRow>> {
    state.with(|s| s.household_rows(query.as_deref(), today()))
}

#[tauri::command(async)]
pub fn add_household(state: State<'_, AppState>, input: HouseholdInput) -> R<Household> {
    state.with(|s| s.add_household(input))
}

#[tauri::command(async)]
pub fn update_household(
    state: State<'_, AppState>,
    id: HouseholdId,
    input: HouseholdInput,
) -> R<Household> {
    state.with(|s| s.update_household(id, input))
}

/// "Đã đọc": the leader read an announcement; the ward learns it at the
/// next sync. Returns the home screen as it is now.
#[tauri::command(async)]
pub fn mark_announcement_read(state: State<'_, AppState>, id: AnnouncementId) -> R<Home> {
    state.with(|s| {
        s.mark_announcement_read(id, chrono::Utc::now())?;
        s.home()
    })
}

/// "Hộ đã chuyển đi": takes a household off the register; its reports stay.
#[tauri::command(async)]
pub fn remove_household(state: State<'_, AppState>, id: HouseholdId) -> R<()> {
    state.with(|s| s.remove_household(id))
}

/// Imports a register CSV (its text): every row or none.
#[tauri::command(async)]
pub fn import_households(state: State<'_, AppState>, csv: String) -> R<Vec<Household>> {
    state.with(|s| s.import_households(csv.as_bytes()))
}

#[tauri::command(async)]
pub fn next_uninspected(state: State<'_, AppState>) -> R<Option<Household>> {
    state.with(|s| s.next_uninspected())
}

/// What the inspection wizard asks of one household: the ward's current
/// checklist and the items that apply.
#[tauri::command(async)]
pub fn inspection_plan(state: State<'_, AppState>, household: HouseholdId) -> R<InspectionPlan> {
    state.with(|s| s.inspection_plan(household))
}

/// The engine's verdict on a report being written: the rules it still
/// breaks and an inspection's result. Nothing is saved.
#[tauri::command(async)]
pub fn check_report(state: State<'_, AppState>, body: ReportBody) -> R<ReportCheck> {
    state.with(|s| s.check_report(body))
}

/// A `sotay://enroll?…` link's server and code, as the enroll form shows
/// them before it is sent, or why the link is not one.
#[tauri::command(async)]
pub fn read_enroll_link(state: State<'_, AppState>, link: String) -> R<EnrollLink> {
    EnrollLink::parse(&link).map_err(|e| AppError::sync(&e, state.lang()))
}

#[tauri::command(async)]
pub fn count_progress(state: State<'_, AppState>) -> R<CountProgress> {
    state.with(|s| s.count_progress())
}

#[tauri::command(async)]
pub fn settings(state: State<'_, AppState>) -> R<AppSettings> {
    // The lock screen speaks the leader's language: the settings are read
    // even while locked (they hold nothing sensitive).
    state.with_even_locked(|s| s.settings())
}

#[tauri::command(async)]
pub fn save_settings(state: State<'_, AppState>, settings: AppSettings) -> R<AppSettings> {
    state.with(|s| s.save_settings(&settings))?;
    state.set_lang(settings.lang);
    Ok(settings)
}

/// The lock screen's state: whether a PIN is set, whether the app is
/// locked, the wait before the next attempt, and how many changes a reset
/// by erasing would lose.
#[tauri::command(async)]
pub fn lock_status(state: State<'_, AppState>) -> R<LockStatus> {
    let locked = state.is_locked();
    state.with_even_locked(|s| LockStatus::read(s, locked))
}

/// Sets the PIN: the first time after enrollment, or later while unlocked.
#[tauri::command(async)]
pub fn set_pin(state: State<'_, AppState>, pin: String) -> R<LockStatus> {
    let set = state
        .with_even_locked(|s| s.pin_status(Utc::now()))?
        .pin_set;
    if set && state.is_locked() {
        return Err(crate::error::AppError::locked(state.lang()));
    }
    state.with_even_locked(|s| s.set_pin(&pin))?;
    lock_status(state)
}

/// One attempt with the PIN.
#[tauri::command(async)]
pub fn unlock(state: State<'_, AppState>, pin: String) -> R<UnlockOutcome> {
    let outcome = state.with_even_locked(|s| s.unlock(&pin, Utc::now()))?;
    if outcome == UnlockOutcome::Unlocked {
        state.set_locked(false);
    }
    Ok(outcome)
}

/// The window went to the background (`visibilitychange`).
#[tauri::command]
pub fn app_hidden(state: State<'_, AppState>) {
    state.hidden();
}

/// The window is back; returns whether the app is locked now.
#[tauri::command]
pub fn app_visible(state: State<'_, AppState>) -> bool {
    state.visible()
}

/// "Quên mã PIN": erases every data on the device (the UI warned how many
/// changes are unsent) and leaves it unlocked at the enrollment screen.
#[tauri::command(async)]
pub fn erase_device(state: State<'_, AppState>) -> R<LockStatus> {
    state.with_even_locked(|s| s.erase_all())?;
    state.set_locked(false);
    lock_status(state)
}

/// Takes in a photo the file input gave (the camera on Android, a file
/// elsewhere), its bytes in base64 as the web view reads them: what a
/// report lists of it. The photo is kept only in the encrypted store.
#[tauri::command(async)]
pub fn add_photo(state: State<'_, AppState>, data: String) -> R<PhotoRef> {
    use base64::Engine;
    state.with(|s| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .map_err(|e| {
                sotay_device::DeviceError::Photo(sotay_device::photo::PhotoError::Unreadable(
                    e.to_string(),
                ))
            })?;
        s.add_photo(&bytes)
    })
}

/// A stored photo as a `data:` URL, to show it in a form.
#[tauri::command(async)]
pub fn photo(state: State<'_, AppState>, sha256: String) -> R<String> {
    use base64::Engine;
    let bytes = state.with(|s| s.photo(&sha256))?;
    Ok(format!(
        "data:{};base64,{}",
        sotay_domain::photo::PHOTO_MIME,
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// How far the photo queue is (count and bytes still to send).
#[tauri::command(async)]
pub fn photo_queue(state: State<'_, AppState>) -> R<PhotoQueue> {
    state.with(|s| s.photo_queue())
}
