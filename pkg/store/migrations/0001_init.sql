-- The tool's own tables: InnoDB and utf8mb4 (unlike Elentra's MyISAM/utf8), in DATABASE_NAME.
-- Times are UTC datetimes; epoch values copied from Elentra stay bigint.

-- enabled = 1: an admin switched the course on (`courses enable`). switched_at is when an admin
-- last switched it on or off; enabled = 0 with switched_at set keeps the course out of
-- sync.all_active_courses, enabled = 0 with switched_at NULL leaves it to that policy.
CREATE TABLE IF NOT EXISTS `msteams_courses` (
  `course_id` int NOT NULL,
  `enabled` tinyint(1) NOT NULL DEFAULT 0,
  `switched_at` datetime NULL DEFAULT NULL,
  `group_id` varchar(64) NULL DEFAULT NULL,
  `mail_nickname` varchar(64) NULL DEFAULT NULL,
  `graph_mail_nickname` varchar(64) NULL DEFAULT NULL,
  `display_name` varchar(256) NULL DEFAULT NULL,
  `graph_display_name` varchar(256) NULL DEFAULT NULL,
  `description_hash` char(64) NULL DEFAULT NULL,
  `state` varchar(16) NOT NULL DEFAULT 'none',
  `intent_at` datetime NULL DEFAULT NULL,
  `team_created_at` datetime NULL DEFAULT NULL,
  `last_synced_at` datetime NULL DEFAULT NULL,
  `last_error` text NULL,
  `last_error_at` datetime NULL DEFAULT NULL,
  `created_at` datetime NOT NULL,
  `updated_at` datetime NOT NULL,
  PRIMARY KEY (`course_id`),
  KEY `msteams_courses_group_id` (`group_id`),
  KEY `msteams_courses_mail_nickname` (`mail_nickname`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `msteams_memberships` (
  `course_id` int NOT NULL,
  `object_id` varchar(64) NOT NULL,
  `proxy_id` int NULL DEFAULT NULL,
  `membership_id` varchar(255) NULL DEFAULT NULL,
  `role` varchar(8) NOT NULL DEFAULT 'member',
  `added_by_tool` tinyint(1) NOT NULL DEFAULT 0,
  `added_at` datetime NULL DEFAULT NULL,
  `updated_at` datetime NOT NULL,
  PRIMARY KEY (`course_id`, `object_id`),
  KEY `msteams_memberships_proxy_id` (`proxy_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- enabled and switched_at as in msteams_courses, with sync.all_course_events as the policy.
-- The meeting: state none | intent (its POST about to be, or maybe, sent) | created (no join URL
-- yet) | scheduled | cancelled; generation counts the meetings made for the event and, with the
-- database name and event id, gives transaction_id. course_id, start and finish (epoch, copied from
-- Elentra) are the event's as last sent, so a move to another course and a finished event are
-- told apart; sent_hashes hashes each field last sent, so an update sends only what changed;
-- joinable_from (epoch) is when the published link (elink_id) opens.
CREATE TABLE IF NOT EXISTS `msteams_events` (
  `event_id` int NOT NULL,
  `enabled` tinyint(1) NOT NULL DEFAULT 0,
  `switched_at` datetime NULL DEFAULT NULL,
  `course_id` int NULL DEFAULT NULL,
  `start` bigint NULL DEFAULT NULL,
  `finish` bigint NULL DEFAULT NULL,
  `mailbox` varchar(64) NULL DEFAULT NULL,
  `graph_event_id` varchar(255) NULL DEFAULT NULL,
  `transaction_id` varchar(64) NULL DEFAULT NULL,
  `generation` int NOT NULL DEFAULT 0,
  `join_url` text NULL,
  `joinable_from` bigint NULL DEFAULT NULL,
  `elink_id` int NULL DEFAULT NULL,
  `content_hash` char(64) NULL DEFAULT NULL,
  `sent_hashes` varchar(255) NULL DEFAULT NULL,
  `state` varchar(16) NOT NULL DEFAULT 'none',
  `intent_at` datetime NULL DEFAULT NULL,
  `last_error` text NULL,
  `last_error_at` datetime NULL DEFAULT NULL,
  `last_synced_at` datetime NULL DEFAULT NULL,
  `created_at` datetime NOT NULL,
  `updated_at` datetime NOT NULL,
  PRIMARY KEY (`event_id`),
  KEY `msteams_events_transaction_id` (`transaction_id`),
  KEY `msteams_events_state_finish` (`state`, `finish`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `msteams_users` (
  `proxy_id` int NOT NULL,
  `object_id` varchar(64) NULL DEFAULT NULL,
  `source` varchar(8) NOT NULL DEFAULT 'matched',
  `match_key` char(64) NULL DEFAULT NULL,
  `match_status` varchar(16) NULL DEFAULT NULL,
  `checked_at` datetime NULL DEFAULT NULL,
  `updated_at` datetime NOT NULL,
  PRIMARY KEY (`proxy_id`),
  KEY `msteams_users_object_id` (`object_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `msteams_tokens` (
  `name` varchar(32) NOT NULL,
  `access_token_enc` blob NULL,
  `refresh_token_enc` blob NULL,
  `expiry` datetime NULL DEFAULT NULL,
  `scopes` text NULL,
  `account_object_id` varchar(64) NULL DEFAULT NULL,
  `account_upn` varchar(255) NULL DEFAULT NULL,
  `client_type` varchar(16) NULL DEFAULT NULL,
  `outlook_timezone` varchar(64) NULL DEFAULT NULL,
  `authorized_at` datetime NULL DEFAULT NULL,
  `refresh_used_at` datetime NULL DEFAULT NULL,
  `version` int NOT NULL DEFAULT 0,
  `updated_at` datetime NOT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `msteams_runs` (
  `run_id` bigint NOT NULL AUTO_INCREMENT,
  `command` varchar(32) NOT NULL,
  `started_at` datetime(3) NOT NULL,
  `finished_at` datetime(3) NULL DEFAULT NULL,
  `exit_code` int NULL DEFAULT NULL,
  `dry_run` tinyint(1) NOT NULL DEFAULT 0,
  `summary` text NULL,
  `report` mediumtext NULL,
  `error` text NULL,
  `host` varchar(255) NULL DEFAULT NULL,
  `pid` int NULL DEFAULT NULL,
  PRIMARY KEY (`run_id`),
  KEY `msteams_runs_command_started` (`command`, `started_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
