-- The installation: one row, made by setup. installation_id is random; it is part of every group nickname,
-- meeting marker and transactionId the installation makes, so that two installations sharing a tenant (staging
-- beside production) never take each other's objects for their own. The server_* columns and database_name bind
-- it to where it was made: a copy of the database restored on another server, or under another name, is told
-- apart from the installation and writes nothing to Microsoft until `setup --new-installation` (a copy) or
-- `setup --moved` (the same installation on a new server).
CREATE TABLE IF NOT EXISTS `msteams_installation` (
  `id` tinyint NOT NULL DEFAULT 1,
  `installation_id` varchar(16) NOT NULL,
  `previous_installation_id` varchar(16) NULL DEFAULT NULL,
  `database_name` varchar(64) NOT NULL,
  `server_uuid` varchar(64) NULL DEFAULT NULL,
  `server_hostname` varchar(255) NULL DEFAULT NULL,
  `server_port` int NULL DEFAULT NULL,
  `server_datadir` varchar(512) NULL DEFAULT NULL,
  `created_at` datetime NOT NULL,
  `bound_at` datetime NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Which installation made each mapping: NULL on a row that maps nothing (a switch, an error).
ALTER TABLE `msteams_courses` ADD COLUMN `installation_id` varchar(16) NULL DEFAULT NULL;
ALTER TABLE `msteams_memberships` ADD COLUMN `installation_id` varchar(16) NULL DEFAULT NULL;
ALTER TABLE `msteams_events` ADD COLUMN `installation_id` varchar(16) NULL DEFAULT NULL;

-- What `setup --new-installation` set aside: the mappings of the installation this database was copied from
-- (its groups, memberships and meetings), kept for `status`, acted on by no sync.
CREATE TABLE IF NOT EXISTS `msteams_set_aside` (
  `set_aside_id` bigint NOT NULL AUTO_INCREMENT,
  `installation_id` varchar(16) NOT NULL,
  `kind` varchar(16) NOT NULL,
  `course_id` int NULL DEFAULT NULL,
  `event_id` int NULL DEFAULT NULL,
  `object_id` varchar(64) NULL DEFAULT NULL,
  `graph_id` varchar(255) NULL DEFAULT NULL,
  `record` text NOT NULL,
  `set_aside_at` datetime NOT NULL,
  PRIMARY KEY (`set_aside_id`),
  KEY `msteams_set_aside_installation` (`installation_id`, `kind`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
