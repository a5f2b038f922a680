package check

// All returns check-config's checks in the order they run and print: the
// configuration, the database, Elentra's settings, the token, Microsoft
// Graph (online only), what the syncs will meet, and the schedule.
func All() []Check {
	const (
		cfgFile    = "config.file"
		cfgDB      = "config.database"
		cfgMS      = "config.microsoft"
		cfgSecret  = "config.client_secret"
		cfgKey     = "config.token_key"
		cfgSync    = "config.sync"
		cfgZone    = "config.timezone"
		dbConnect  = "database.connect"
		dbSchemas  = "database.schemas"
		dbMigrated = "database.migrations"
		admin      = "elentra.admin"
		tokStored  = "token.stored"
		tokRefresh = "token.refresh"
		graphMe    = "graph.me"
	)
	return []Check{
		{ID: cfgFile, Run: checkConfigFile},
		{ID: "config.permissions", DependsOn: []string{cfgFile}, Run: checkPermissions},
		{ID: cfgDB, DependsOn: []string{cfgFile}, Run: checkDatabaseConfig},
		{ID: cfgMS, DependsOn: []string{cfgFile}, Run: checkMicrosoftConfig},
		{ID: cfgSecret, DependsOn: []string{cfgFile}, Run: checkClientSecret},
		{ID: "config.redirect_uri", DependsOn: []string{cfgMS}, Run: checkRedirectURI},
		{ID: "config.endpoints", DependsOn: []string{cfgMS}, Run: checkEndpoints},
		{ID: cfgKey, DependsOn: []string{cfgFile}, Run: checkTokenKey},
		{ID: cfgSync, DependsOn: []string{cfgDB}, Run: checkSyncConfig},
		{ID: cfgZone, DependsOn: []string{cfgDB}, Run: checkTimezoneConfig},

		{ID: dbConnect, DependsOn: []string{cfgDB}, Run: checkConnect},
		{ID: dbSchemas, DependsOn: []string{dbConnect}, Run: checkSchemas},
		{ID: dbMigrated, DependsOn: []string{dbSchemas}, Run: checkMigrations},
		{ID: "database.privileges", DependsOn: []string{dbConnect}, Run: checkPrivileges},
		{ID: "database.installation", DependsOn: []string{dbMigrated}, Run: checkInstallation},

		{ID: "elentra.teams_enabled", DependsOn: []string{dbSchemas}, Run: checkTeamsEnabled},
		{ID: "elentra.meeting_window", DependsOn: []string{dbSchemas}, Run: checkMeetingWindow},
		{ID: "elentra.cron_jobs", DependsOn: []string{dbSchemas}, Run: checkElentraCron},
		{ID: "elentra.object_id_column", DependsOn: []string{dbSchemas}, Run: checkObjectIDColumn},
		{ID: "elentra.course_switch", DependsOn: []string{dbSchemas}, Run: checkCourseSwitch},
		{ID: "elentra.event_switch", DependsOn: []string{dbSchemas}, Run: checkEventSwitch},
		{ID: "elentra.microsoft_columns", DependsOn: []string{dbSchemas}, Run: checkMicrosoftColumns},
		{ID: admin, DependsOn: []string{dbMigrated}, Run: checkAdmin},

		{ID: tokStored, DependsOn: []string{dbMigrated, cfgKey}, Run: checkTokenStored},
		{ID: "token.account", DependsOn: []string{tokStored, admin}, Run: checkTokenAccount},
		{ID: tokRefresh, DependsOn: []string{tokStored}, OnlineDependsOn: []string{cfgMS, cfgSecret}, Run: checkTokenRefresh},
		{ID: "token.scopes", DependsOn: []string{tokStored}, Run: checkTokenScopes},
		{ID: "token.timezone", DependsOn: []string{tokStored, cfgZone}, Run: checkTokenTimezone},

		{ID: graphMe, Online: true, DependsOn: []string{tokRefresh}, Run: checkGraphMe},
		{ID: "graph.teams_meetings", Online: true, DependsOn: []string{graphMe}, Run: checkTeamsMeetings},
		{ID: "teams.limit", DependsOn: []string{dbMigrated}, OnlineDependsOn: []string{graphMe}, Run: checkTeamsLimit},

		{ID: "courses.enabled", DependsOn: []string{dbMigrated, cfgSync}, Run: checkCoursesEnabled},
		{ID: "users.object_ids", DependsOn: []string{dbMigrated, cfgSync}, Run: checkObjectIDs},
		{ID: "courses.owners", DependsOn: []string{dbMigrated, cfgSync}, Run: checkOwners},
		{ID: "courses.errors", DependsOn: []string{dbMigrated}, Run: checkCourseErrors},
		{ID: "runs.recent", DependsOn: []string{dbMigrated}, Run: checkRuns},
		{ID: "cron.entry", DependsOn: []string{cfgFile}, Run: checkCronEntry},
	}
}
