-- Elentra ME tables in AUTH_DATABASE (default `entrada_auth`) that elentra-teams reads, written
-- for this project from the facts in Elentra 1.9's install schema. user_data.id is the "proxy_id"
-- every other table refers to.

CREATE TABLE `organisations` (
  `organisation_id` int(12) NOT NULL AUTO_INCREMENT,
  `organisation_title` varchar(128) NOT NULL DEFAULT '',
  `organisation_active` tinyint(1) NOT NULL DEFAULT '1',
  `organisation_address1` varchar(128) NOT NULL DEFAULT '',
  `organisation_city` varchar(35) NOT NULL DEFAULT '',
  `organisation_country` varchar(35) NOT NULL DEFAULT '',
  `organisation_email` varchar(128) NOT NULL DEFAULT '',
  `organisation_url` varchar(128) NOT NULL DEFAULT '',
  `organisation_desc` text,
  PRIMARY KEY (`organisation_id`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `user_data` (
  `id` int(12) unsigned NOT NULL AUTO_INCREMENT,
  `number` varchar(25) NOT NULL DEFAULT '',
  `username` varchar(255) NOT NULL DEFAULT '',
  `password` varchar(128) NOT NULL DEFAULT '',
  `salt` varchar(64) DEFAULT NULL,
  `organisation_id` int(12) NOT NULL DEFAULT '1',
  `department` varchar(255) DEFAULT NULL,
  `prefix` varchar(10) NOT NULL DEFAULT '',
  `firstname` varchar(35) NOT NULL DEFAULT '',
  `lastname` varchar(35) NOT NULL DEFAULT '',
  `email` varchar(255) NOT NULL DEFAULT '',
  `email_alt` varchar(128) NOT NULL DEFAULT '',
  `email_updated` bigint(64) DEFAULT NULL,
  `grad_year` int(11) DEFAULT NULL,
  `gender` int(1) NOT NULL DEFAULT '0',
  `uuid` varchar(36) DEFAULT NULL,
  `created_date` bigint(64) NOT NULL DEFAULT '0',
  `created_by` int(11) NOT NULL DEFAULT '0',
  `updated_date` bigint(64) NOT NULL DEFAULT '0',
  `updated_by` int(11) NOT NULL DEFAULT '0',
  PRIMARY KEY (`id`),
  UNIQUE KEY `username` (`username`),
  KEY `organisation_id` (`organisation_id`),
  KEY `email` (`email`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;

CREATE TABLE `user_access` (
  `id` int(12) unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int(12) unsigned NOT NULL DEFAULT '0',
  `app_id` int(12) unsigned NOT NULL DEFAULT '0',
  `organisation_id` int(12) unsigned NOT NULL DEFAULT '0',
  `account_active` enum('true','false') NOT NULL DEFAULT 'true',
  `access_starts` bigint(32) NOT NULL DEFAULT '0',
  `access_expires` bigint(32) NOT NULL DEFAULT '0',
  `last_login` bigint(32) NOT NULL DEFAULT '0',
  `last_ip` varchar(75) NOT NULL DEFAULT '',
  `login_attempts` int(11) DEFAULT NULL,
  `locked_out_until` bigint(64) DEFAULT NULL,
  `role` varchar(35) NOT NULL DEFAULT '',
  `group` varchar(35) NOT NULL DEFAULT '',
  `extras` longtext,
  `private_hash` varchar(32) DEFAULT NULL,
  `notes` text,
  PRIMARY KEY (`id`),
  KEY `user_id` (`user_id`),
  KEY `app_id` (`app_id`),
  KEY `organisation_id` (`organisation_id`),
  KEY `group` (`group`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;
