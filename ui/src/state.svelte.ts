// App-wide state shared by the screens: language, current screen, the home
// summary and the sync loop's last news.
import type { Home, Lang, LockStatus, NetworkKind, Progress, SyncEvent } from "./generated/bindings";
import { translate } from "./i18n";
import { call, on } from "./api";
import { networkFromConnection } from "./logic";

/** `navigator.connection` where the WebView has it (Android). */
type Connection = EventTarget & { type?: string };

/** Tells the engine the network type, now and on every change, where the WebView knows it. */
function reportNetwork() {
  const connection = (navigator as Navigator & { connection?: Connection }).connection;
  if (!connection) return;
  const report = () => void call("report_network", { kind: networkFromConnection(connection.type) }).catch(() => {});
  report();
  connection.addEventListener("change", report);
}

export type Screen =
  | "enroll" | "home" | "tip" | "households" | "inspect" | "count" | "history" | "settings"
  | "lock" | "set-pin";

export const app = $state({
  lang: "vi" as Lang,
  screen: "home" as Screen,
  /** The household the screen opens with (inspect one home). */
  param: null as string | null,
  /** The report the screen opens to change (a draft, or one the ward returned). */
  report: null as string | null,
  home: null as Home | null,
  syncing: false,
  progress: null as Progress | null,
  syncError: null as { code: string; message: string } | null,
  /** Set while the loop holds back because only Wi-Fi is allowed: the network it sees. */
  waitingFor: null as NetworkKind | null,
  /** The lock screen's state, from the engine. */
  lock: null as LockStatus | null,
  /** Why the device is back at enrollment (the ward revoked it), if it is. */
  notice: null as string | null,
  ready: false,
});

export function t(key: string, vars: Record<string, string | number> = {}): string {
  return translate(app.lang, key, vars);
}

export function go(screen: Screen, param: string | null = null, report: string | null = null) {
  app.screen = screen;
  app.param = param;
  app.report = report;
  window.scrollTo(0, 0);
}

export async function refreshHome() {
  app.home = await call("home", {});
}

export function onSyncEvent(ev: SyncEvent) {
  switch (ev.type) {
    case "started": app.syncing = true; app.progress = null; app.syncError = null; app.waitingFor = null; break;
    case "progress": app.progress = ev; break;
    case "finished": app.syncing = false; app.progress = null; app.syncError = null; void refreshHome(); break;
    case "failed":
      app.syncing = false; app.progress = null; app.syncError = { code: ev.code, message: ev.message };
      if (ev.code === "device-revoked") {
        // The engine erased everything: back to enrollment, saying why.
        app.notice = ev.message;
        go("enroll");
        break;
      }
      void refreshHome();
      break;
    case "waiting-for-network": app.syncing = false; app.waitingFor = ev.network; break;
  }
}

/** The first screen from one `boot` call; the sync loop starts once it has painted. */
export async function start() {
  const [boot] = await Promise.all([call("boot", {}), on("sync", onSyncEvent)]);
  app.lang = boot.settings.lang;
  document.documentElement.lang = boot.settings.lang;
  watchVisibility();
  app.lock = boot.lock;
  if (boot.lock.locked || !boot.home) {
    // Nothing else is asked of the engine (it would refuse) before the PIN.
    app.screen = "lock";
  } else {
    app.home = boot.home;
    reportNetwork();
    if (boot.sync?.state === "waiting-for-wifi") app.waitingFor = boot.sync.network;
    route();
  }
  app.ready = true;
  afterFirstPaint(() => void call("painted", {}).catch(() => {}));
}

/** Runs `f` once the browser has painted the current frame. */
function afterFirstPaint(f: () => void) {
  requestAnimationFrame(() => setTimeout(f, 0));
}

/** The screen the app opens on: enrollment, choosing a PIN, or home. */
function route() {
  if (!app.home?.sync.enrolled) go("enroll");
  else if (!app.lock?.pin_set) go("set-pin");
  else go("home");
}

/** What follows the lock screen (or a start without one). */
export async function opened() {
  reportNetwork();
  await refreshHome();
  const loop = await call("sync_state", {});
  if (loop?.state === "waiting-for-wifi") app.waitingFor = loop.network;
  app.lock = await call("lock_status", {});
  route();
}

/** Tells the engine when the window leaves and comes back; it locks the app after five minutes away. */
function watchVisibility() {
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      void call("app_hidden", {}).catch(() => {});
    } else {
      void call("app_visible", {}).then(async (locked) => {
        if (locked) {
          app.lock = await call("lock_status", {});
          go("lock");
        }
      }).catch(() => {});
    }
  });
}
