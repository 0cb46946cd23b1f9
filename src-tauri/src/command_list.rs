// Every command of the app, declared once: its name, its arguments and its
// result. This file is `include!`d by build.rs (the `allow-<command>`
// permissions), by lib.rs (the invoke handler) and by bindings.rs (the
// TypeScript `Commands` map), so the three cannot drift. The capability
// (capabilities/default.json) is the deliberate grant to the window and is
// checked against this list by a test.
//
// `with_commands!(m, a, b)` expands to `m!(a, b; home() -> Home; …)`.
// Adding a command: its function in commands.rs, a line here, a line in the
// capability, then `SOTAY_BLESS=1 cargo test -p sotay-app bindings`.
macro_rules! with_commands {
    ($m:ident $(, $x:ident)*) => {
        $m!($($x),*;
            boot() -> Boot;
            painted() -> ();
            home() -> Home;
            enroll(server: Option<String>, code: Option<String>, link: Option<String>) -> SyncStatus;
            sync_now() -> bool;
            sync_now_any_network() -> bool;
            sync_state() -> Option<LoopStatus>;
            report_network(kind: NetworkKind) -> ();
            save_report(id: Option<ReportId>, body: ReportBody, send: bool) -> Report;
            send_report(id: ReportId) -> Report;
            report(id: ReportId) -> Report;
            list_reports(filter: ListFilter) -> Page<ReportSummary>;
            search(text: String) -> SearchResults;
            households(query: Option<String>) -> Vec<HouseholdRow>;
            add_household(input: HouseholdInput) -> Household;
            update_household(id: HouseholdId, input: HouseholdInput) -> Household;
            remove_household(id: HouseholdId) -> ();
            mark_announcement_read(id: AnnouncementId) -> Home;
            import_households(csv: String) -> Vec<Household>;
            next_uninspected() -> Option<Household>;
            inspection_plan(household: HouseholdId) -> InspectionPlan;
            check_report(body: ReportBody) -> ReportCheck;
            read_enroll_link(link: String) -> EnrollLink;
            count_progress() -> CountProgress;
            settings() -> AppSettings;
            save_settings(settings: AppSettings) -> AppSettings;
            lock_status() -> LockStatus;
            set_pin(pin: String) -> LockStatus;
            unlock(pin: String) -> UnlockOutcome;
            app_hidden() -> ();
            app_visible() -> bool;
            erase_device() -> LockStatus;
            add_photo(data: String) -> PhotoRef;
            photo(sha256: String) -> String;
            photo_queue() -> PhotoQueue;
        )
    };
}
