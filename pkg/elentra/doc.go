// Package elentra reads an Elentra ME database (MySQL or MariaDB) and writes
// the few rows of it the tool owns (event links).
//
// Elentra keeps two schemas on one server, DATABASE_NAME (default entrada)
// and AUTH_DATABASE (default entrada_auth). A DB holds both configured names,
// checks them against ^[A-Za-z0-9_$]{1,64}$ and names every table fully
// (`entrada_auth`.`user_data`), as Elentra itself does; no schema name is a
// literal in a query, and every value is a bound parameter.
//
// Reads are set-based: one query per kind of data (per MaxInList ids; two for
// learners, whose students are read once), never one per course or user, so
// a school of 2,000 courses costs the same number of queries as one of 20. "Now" is always passed in; Elentra's epoch-second
// columns are compared with now.Unix(), and 0 means "unset" (open).
//
// # Who is a learner of a course
//
// Learners returns, per course, the union without duplicates of
//   - course_audience rows of type proxy_id, and
//   - course_audience rows of type group_id, through groups and group_members,
//
// keeping a user only when all of these hold at now:
//   - the audience row is active (audience_active = 1);
//   - its curriculum period covers now (start_date <= now <= finish_date);
//   - its enrolment window covers now (enroll_start, enroll_finish; 0 = open);
//   - for a group: the group is active and its start_date/expire_date
//     (NULL or 0 = open) cover now; the member row is active and its
//     start_date/finish_date (0 = open) cover now;
//   - the user exists and has a user_access row for the application
//     (AUTH_APP_ID) in the course's organisation with group 'student',
//     account_active 'true', access_starts <= now (0 = open) and
//     access_expires strictly after now (0 = open).
//
// CohortMembers, whom an event with a cohort audience invites, applies the
// same group and member clauses (one rule, cohortMemberActive).
//
// Where this differs from Elentra: Elentra 1.9's own audience query
// (Audience::getAllByCourseIDOrganisationID) checks no curriculum-period dates
// for group audiences and ignores member_active, the member dates, the
// enrolment dates and the access dates. This package checks all of them on
// purpose: someone whose access expired, whose enrolment ended or who left a
// cohort is not put in (or is taken out of) the course's Team, even where
// Elentra's own course page would still list them.
//
// # Owners
//
// Contacts returns course_contacts rows and, as type "pcoord_id", the legacy
// courses.pcoord_id column when it is non-zero and names an existing user:
// Elentra's ACL treats director, ccoordinator, pcoordinator and pcoord_id as
// course owners. Which types become Team owners is the caller's policy.
//
// # Event links and crash safety
//
// The tool publishes a meeting's join link as an event_links row (MyISAM)
// listed by an event_resource_entities row of entity_type 3 (InnoDB). No
// transaction can span the two, so each write helper orders its two writes so
// that a crash between them leaves a link that is invisible on the event page
// and that the next run finds and finishes: InsertEventLink writes the link,
// then its listing; UpdateEventLink writes the link, then the listing (adding
// it when missing); DeleteEventLink removes the listing, then the link.
// EventLink.Published tells a finished link from an unfinished one.
package elentra
