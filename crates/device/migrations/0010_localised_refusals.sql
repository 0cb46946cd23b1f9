-- 0010: refusals in the leader's language. A report the server refused
-- keeps the rules it broke (a JSON list of {field, code, …}), so the app
-- says them in the language the leader reads now and marks the fields;
-- the last sync error keeps its English message beside the Vietnamese one
-- (last_error_message), so switching the language switches it too.
-- Append-only: never edit once shipped.
ALTER TABLE reports ADD COLUMN rejected_fields TEXT;
ALTER TABLE sync_state ADD COLUMN last_error_message_en TEXT;
