-- Elentra ME tables in DATABASE_NAME (default `entrada`) that elentra-teams reads or writes,
-- written for this project from the facts in Elentra 1.9's install schema: MyISAM, 3-byte utf8,
-- no foreign keys, times as epoch seconds in bigint columns (0 = unset). event_resource_entities
-- is InnoDB as in Elentra. Loaded with sql_mode NO_AUTO_VALUE_ON_ZERO, as Elentra's dumps are.

CREATE TABLE `settings` (
  `setting_id` int(12) NOT NULL AUTO_INCREMENT,
  `shortname` varchar(64) NOT NULL,
  `organisation_id` int(12) DEFAULT NULL,
  `value` text NOT NULL,
  PRIMARY KEY (`setting_id`),
  KEY `shortname` (`shortname`),
  KEY `organisation_id` (`organisation_id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `curriculum_lu_types` (
  `curriculum_type_id` int(12) unsigned NOT NULL AUTO_INCREMENT,
  `parent_id` int(12) unsigned NOT NULL DEFAULT '0',
  `curriculum_type_name` varchar(60) NOT NULL DEFAULT '',
  `curriculum_type_description` text,
  `curriculum_type_order` int(12) unsigned NOT NULL DEFAULT '0',
  `curriculum_type_active` int(1) unsigned NOT NULL DEFAULT '1',
  `curriculum_level_id` int(12) DEFAULT NULL,
  `updated_date` bigint(64) NOT NULL DEFAULT '0',
  `updated_by` int(12) NOT NULL DEFAULT '0',
  PRIMARY KEY (`curriculum_type_id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `curriculum_periods` (
  `cperiod_id` int(11) NOT NULL AUTO_INCREMENT,
  `curriculum_type_id` int(11) NOT NULL DEFAULT '0',
  `curriculum_period_title` varchar(200) DEFAULT '',
  `start_date` bigint(64) NOT NULL DEFAULT '0',
  `finish_date` bigint(64) NOT NULL DEFAULT '0',
  `active` int(1) NOT NULL DEFAULT '1',
  PRIMARY KEY (`cperiod_id`),
  KEY `curriculum_type_id` (`curriculum_type_id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `courses` (
  `course_id` int(12) unsigned NOT NULL AUTO_INCREMENT,
  `organisation_id` int(12) unsigned NOT NULL DEFAULT '0',
  `curriculum_type_id` int(12) unsigned NOT NULL DEFAULT '0',
  `parent_id` int(12) unsigned NOT NULL DEFAULT '0',
  `pcoord_id` int(12) unsigned NOT NULL DEFAULT '0',
  `evalrep_id` int(12) unsigned NOT NULL DEFAULT '0',
  `studrep_id` int(12) unsigned NOT NULL DEFAULT '0',
  `course_name` varchar(85) NOT NULL DEFAULT '',
  `course_code` varchar(16) NOT NULL DEFAULT '',
  `course_description` text,
  `course_mandatory` int(1) NOT NULL DEFAULT '0',
  `course_objectives` text,
  `course_url` text,
  `course_redirect` int(1) NOT NULL DEFAULT '0',
  `notifications` int(1) NOT NULL DEFAULT '1',
  `permission` enum('open','closed') NOT NULL DEFAULT 'closed',
  `sync_ldap` int(1) NOT NULL DEFAULT '0',
  `course_active` int(1) NOT NULL DEFAULT '1',
  PRIMARY KEY (`course_id`),
  KEY `organisation_id` (`organisation_id`),
  KEY `curriculum_type_id` (`curriculum_type_id`),
  KEY `course_code` (`course_code`),
  KEY `course_active` (`course_active`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `course_audience` (
  `caudience_id` int(11) NOT NULL AUTO_INCREMENT,
  `course_id` int(11) NOT NULL,
  `audience_type` enum('proxy_id','group_id') NOT NULL,
  `audience_value` int(11) NOT NULL,
  `cperiod_id` int(11) NOT NULL,
  `ldap_sync_date` bigint(64) NOT NULL DEFAULT '0',
  `enroll_start` bigint(20) NOT NULL DEFAULT '0',
  `enroll_finish` bigint(20) NOT NULL DEFAULT '0',
  `audience_active` int(1) NOT NULL DEFAULT '1',
  PRIMARY KEY (`caudience_id`),
  KEY `course_id` (`course_id`),
  KEY `audience_type` (`audience_type`,`audience_value`),
  KEY `cperiod_id` (`cperiod_id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `groups` (
  `group_id` int(12) NOT NULL AUTO_INCREMENT,
  `group_name` varchar(255) NOT NULL DEFAULT '',
  `group_type` enum('course_list','cohort') NOT NULL DEFAULT 'course_list',
  `group_value` int(12) DEFAULT NULL,
  `start_date` bigint(64) DEFAULT NULL,
  `expire_date` bigint(64) DEFAULT NULL,
  `group_active` int(1) NOT NULL DEFAULT '1',
  `created_date` bigint(64) NOT NULL DEFAULT '0',
  `created_by` int(12) NOT NULL DEFAULT '0',
  `updated_date` bigint(64) NOT NULL DEFAULT '0',
  `updated_by` int(12) NOT NULL DEFAULT '0',
  PRIMARY KEY (`group_id`),
  KEY `group_type` (`group_type`),
  KEY `group_active` (`group_active`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `group_members` (
  `gmember_id` int(12) NOT NULL AUTO_INCREMENT,
  `group_id` int(12) NOT NULL DEFAULT '0',
  `proxy_id` int(12) unsigned NOT NULL DEFAULT '0',
  `start_date` bigint(64) NOT NULL DEFAULT '0',
  `finish_date` bigint(64) NOT NULL DEFAULT '0',
  `member_active` int(1) NOT NULL DEFAULT '1',
  `entrada_only` int(1) DEFAULT '0',
  `created_date` bigint(64) NOT NULL DEFAULT '0',
  `created_by` int(12) NOT NULL DEFAULT '0',
  `updated_date` bigint(64) NOT NULL DEFAULT '0',
  `updated_by` int(12) NOT NULL DEFAULT '0',
  PRIMARY KEY (`gmember_id`),
  KEY `group_id` (`group_id`,`proxy_id`),
  KEY `proxy_id` (`proxy_id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `course_contacts` (
  `contact_id` int(12) NOT NULL AUTO_INCREMENT,
  `course_id` int(12) NOT NULL DEFAULT '0',
  `proxy_id` int(12) NOT NULL DEFAULT '0',
  `contact_type` varchar(15) NOT NULL DEFAULT 'director',
  `contact_order` int(6) NOT NULL DEFAULT '0',
  PRIMARY KEY (`contact_id`),
  KEY `course_id` (`course_id`),
  KEY `proxy_id` (`proxy_id`),
  KEY `contact_type` (`contact_type`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `course_groups` (
  `cgroup_id` int(11) NOT NULL AUTO_INCREMENT,
  `course_id` int(11) NOT NULL,
  `cperiod_id` int(11) DEFAULT NULL,
  `group_name` varchar(30) NOT NULL DEFAULT '',
  `group_type` varchar(30) DEFAULT NULL,
  `active` int(1) NOT NULL DEFAULT '1',
  PRIMARY KEY (`cgroup_id`),
  KEY `course_id` (`course_id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `course_group_audience` (
  `cgaudience_id` int(11) NOT NULL AUTO_INCREMENT,
  `cgroup_id` int(11) NOT NULL,
  `proxy_id` int(12) NOT NULL,
  `start_date` bigint(64) NOT NULL DEFAULT '0',
  `finish_date` bigint(64) NOT NULL DEFAULT '0',
  `active` int(1) NOT NULL DEFAULT '1',
  PRIMARY KEY (`cgaudience_id`),
  KEY `cgroup_id` (`cgroup_id`),
  KEY `proxy_id` (`proxy_id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `events` (
  `event_id` int(12) unsigned NOT NULL AUTO_INCREMENT,
  `parent_id` int(12) unsigned DEFAULT NULL,
  `recurring_id` int(12) DEFAULT '0',
  `eventtype_id` int(12) DEFAULT '0',
  `region_id` int(12) DEFAULT '0',
  `course_id` int(12) unsigned NOT NULL DEFAULT '0',
  `event_phase` varchar(12) DEFAULT NULL,
  `event_title` varchar(255) NOT NULL DEFAULT '',
  `event_description` text,
  `include_parent_description` tinyint(1) NOT NULL DEFAULT '1',
  `event_goals` text,
  `event_objectives` text,
  `event_message` text,
  `include_parent_message` tinyint(1) NOT NULL DEFAULT '1',
  `event_location` varchar(64) DEFAULT NULL,
  `event_start` bigint(64) NOT NULL DEFAULT '0',
  `event_finish` bigint(64) NOT NULL DEFAULT '0',
  `event_duration` int(64) NOT NULL DEFAULT '0',
  `release_date` bigint(64) NOT NULL DEFAULT '0',
  `release_until` bigint(64) NOT NULL DEFAULT '0',
  `draft_id` int(11) DEFAULT NULL,
  `updated_date` bigint(64) NOT NULL DEFAULT '0',
  `updated_by` int(12) NOT NULL DEFAULT '0',
  PRIMARY KEY (`event_id`),
  KEY `course_id` (`course_id`),
  KEY `parent_id` (`parent_id`),
  KEY `event_start` (`event_start`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `event_audience` (
  `eaudience_id` int(12) unsigned NOT NULL AUTO_INCREMENT,
  `event_id` int(12) unsigned NOT NULL DEFAULT '0',
  `audience_type` enum('proxy_id','grad_year','cohort','organisation_id','group_id','course_id') NOT NULL,
  `audience_value` varchar(16) NOT NULL,
  `custom_time` int(1) DEFAULT '0',
  `custom_time_start` bigint(64) DEFAULT '0',
  `custom_time_end` bigint(64) DEFAULT '0',
  `updated_date` bigint(64) NOT NULL DEFAULT '0',
  `updated_by` int(12) NOT NULL DEFAULT '0',
  PRIMARY KEY (`eaudience_id`),
  KEY `event_id` (`event_id`),
  KEY `audience_type` (`audience_type`,`audience_value`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `event_contacts` (
  `econtact_id` int(12) unsigned NOT NULL AUTO_INCREMENT,
  `event_id` int(12) unsigned NOT NULL DEFAULT '0',
  `proxy_id` int(12) unsigned NOT NULL DEFAULT '0',
  `contact_role` enum('teacher','tutor','ta','auditor') NOT NULL DEFAULT 'teacher',
  `contact_order` int(6) NOT NULL DEFAULT '0',
  `updated_date` bigint(64) NOT NULL DEFAULT '0',
  `updated_by` int(12) NOT NULL DEFAULT '0',
  PRIMARY KEY (`econtact_id`),
  KEY `event_id` (`event_id`),
  KEY `proxy_id` (`proxy_id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `event_links` (
  `elink_id` int(12) unsigned NOT NULL AUTO_INCREMENT,
  `event_id` int(12) unsigned NOT NULL DEFAULT '0',
  `required` int(1) NOT NULL DEFAULT '0',
  `timeframe` varchar(64) NOT NULL DEFAULT 'none',
  `proxify` int(1) NOT NULL DEFAULT '0',
  `link` text NOT NULL,
  `link_title` varchar(255) NOT NULL,
  `link_notes` text NOT NULL,
  `accesses` int(12) NOT NULL DEFAULT '0',
  `release_date` bigint(64) NOT NULL DEFAULT '0',
  `release_until` bigint(64) NOT NULL DEFAULT '0',
  `updated_date` bigint(64) NOT NULL DEFAULT '0',
  `updated_by` int(12) NOT NULL DEFAULT '0',
  PRIMARY KEY (`elink_id`),
  KEY `event_id` (`event_id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `event_resource_entities` (
  `event_resource_entity_id` int(12) unsigned NOT NULL AUTO_INCREMENT,
  `event_id` int(12) unsigned NOT NULL,
  `entity_type` int(12) NOT NULL,
  `entity_value` int(12) NOT NULL,
  `release_date` bigint(64) NOT NULL DEFAULT '0',
  `release_until` bigint(64) NOT NULL DEFAULT '0',
  `updated_date` int(12) NOT NULL,
  `updated_by` int(12) NOT NULL,
  `active` tinyint(1) NOT NULL DEFAULT '1',
  PRIMARY KEY (`event_resource_entity_id`),
  KEY `event_id` (`event_id`),
  KEY `entity` (`entity_type`,`entity_value`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

-- Elentra 1.22 schedules its own jobs here (the Teams guide's four microsoft:* jobs). Its exact
-- columns are not public; the tool reads it by column name and only needs these four.
CREATE TABLE `cron` (
  `id` int(12) unsigned NOT NULL AUTO_INCREMENT,
  `command` varchar(255) NOT NULL DEFAULT '',
  `schedule` varchar(64) NOT NULL DEFAULT '0 0 * * *',
  `active` tinyint(1) NOT NULL DEFAULT '1',
  `updated_date` bigint(64) NOT NULL DEFAULT '0',
  PRIMARY KEY (`id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;
