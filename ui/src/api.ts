// The only door to the Rust side: typed by the generated `Commands` and
// `Events`, so a command's name, arguments and result cannot drift.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AppError, Commands, Events } from "./generated/bindings";

export function call<K extends keyof Commands>(cmd: K, args: Commands[K]["args"]): Promise<Commands[K]["result"]> {
  return invoke<Commands[K]["result"]>(cmd, args as Record<string, unknown>);
}

export function on<K extends keyof Events>(event: K, handler: (payload: Events[K]) => void): Promise<UnlistenFn> {
  return listen<Events[K]>(event, (e) => handler(e.payload));
}

/** Any thrown value as `{code, message}`. */
export function asError(e: unknown): AppError {
  if (e && typeof e === "object" && "code" in e && "message" in e) return e as AppError;
  return { code: "internal", message: String(e) };
}

/**
 * The fields an `invalid` error names (`description`, `suspects[0].name_or_alias`…),
 * so a form can mark them. Empty for every other error.
 */
export function invalidFields(e: AppError): string[] {
  if (!Array.isArray(e.fields)) return [];
  return e.fields.flatMap((f) =>
    f && typeof f === "object" && !Array.isArray(f) && typeof f.field === "string" ? [f.field] : []);
}
