-- Elentra's own Teams switches (elentra.course_switch_column, elentra.event_switch_column): elentra_on = 1 when a
-- sync-events read the course's or event's switch saying "on", and it has held a value since. A value other than
-- "on" that follows is Elentra's switch turned off by an admin: the cancellations it causes are an admin's switch,
-- as `courses disable` and `events disable` are. A value that appears where none was (the key newly set, a row
-- added) is not: its cancellations pass every guard. 0 once the switch holds no value, or the key is unset.
ALTER TABLE `msteams_courses` ADD COLUMN `elentra_on` tinyint(1) NOT NULL DEFAULT 0;
ALTER TABLE `msteams_events` ADD COLUMN `elentra_on` tinyint(1) NOT NULL DEFAULT 0;
