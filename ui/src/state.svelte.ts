// App-wide state shared by the screens: language, current screen, the home
// summary and the sync loop's last news.
import type { Home, Lang, Progress, SyncEvent } from "./generated/bindings";
import { translate } from "./i18n";
import { call, on } from "./api";

export type Screen = "enroll" | "home" | "tip" | "households" | "inspect" | "count" | "history" | "settings";

export const app = $state({
  lang: "vi" as Lang,
  screen: "home" as Screen,
  /** A report or household the screen opens with. */
  param: null as string | null,
  home: null as Home | null,
  syncing: false,
  progress: null as Progress | null,
  syncError: null as { code: string; message: string } | null,
  ready: false,
});

export function t(key: string, vars: Record<string, string | number> = {}): string {
  return translate(app.lang, key, vars);
}

export function go(screen: Screen, param: string | null = null) {
  app.screen = screen;
  app.param = param;
  window.scrollTo(0, 0);
}

export async function refreshHome() {
  app.home = await call("home", {});
}

export function onSyncEvent(ev: SyncEvent) {
  switch (ev.type) {
    case "started": app.syncing = true; app.progress = null; app.syncError = null; break;
    case "progress": app.progress = ev; break;
    case "finished": app.syncing = false; app.progress = null; app.syncError = null; void refreshHome(); break;
    case "failed": app.syncing = false; app.progress = null; app.syncError = { code: ev.code, message: ev.message }; void refreshHome(); break;
  }
}

export async function start() {
  const settings = await call("settings", {});
  app.lang = settings.lang;
  document.documentElement.lang = settings.lang;
  await on("sync", onSyncEvent);
  await refreshHome();
  app.screen = app.home?.sync.enrolled ? "home" : "enroll";
  app.ready = true;
}
