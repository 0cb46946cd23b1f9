-- Households that left the group's register: the ward loaded a register
-- without them, or the leader marked them moved away. The row stays, so
-- reports that name the household keep their address and head; lists,
-- search, "next to inspect" and the register's resident total skip it.
-- Writing the household again (the ward adds it back) clears the mark.
ALTER TABLE households ADD COLUMN removed_at TEXT;
