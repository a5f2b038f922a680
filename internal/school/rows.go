package school

// The rows of the generated school, one type per Elentra table, with the
// columns the tool reads. Times are epoch seconds as Elentra stores them.

// Organisation is an auth.organisations row.
type Organisation struct {
	ID     int
	Title  string
	Active bool
}

// User is an auth.user_data row plus what the generator knows of it.
type User struct {
	ID             int
	Username       string
	FirstName      string
	LastName       string
	Email          string
	OrganisationID int
	// Kind is "admin", "faculty" or "learner".
	Kind string
	// DirectoryID is the Object ID of the user's directory account, "" when
	// the user has none.
	DirectoryID string
}

// Access is an auth.user_access row.
type Access struct {
	ID             int
	UserID         int
	AppID          int
	OrganisationID int
	Active         bool // account_active 'true'
	Starts         int64
	Expires        int64
	Group          string
	Role           string
}

// CurriculumType is a curriculum_lu_types row.
type CurriculumType struct {
	ID   int
	Name string
}

// Period is a curriculum_periods row.
type Period struct {
	ID     int
	TypeID int
	Title  string
	Start  int64
	Finish int64
}

// Course is a courses row.
type Course struct {
	ID             int
	OrganisationID int
	TypeID         int
	Code           string
	Name           string
	Description    string
	Active         bool
	PcoordID       int
}

// Audience is a course_audience row.
type Audience struct {
	ID           int
	CourseID     int
	Type         string // proxy_id or group_id
	Value        int
	PeriodID     int
	EnrollStart  int64
	EnrollFinish int64
	Active       bool
}

// Group is a groups row; Start and Expire nil are NULL.
type Group struct {
	ID     int
	Name   string
	Type   string // cohort or course_list
	Start  *int64
	Expire *int64
	Active bool
}

// Member is a group_members row.
type Member struct {
	ID      int
	GroupID int
	ProxyID int
	Start   int64
	Finish  int64
	Active  bool
}

// Contact is a course_contacts row.
type Contact struct {
	ID       int
	CourseID int
	ProxyID  int
	Type     string
	Order    int
}

// Event is an events row.
type Event struct {
	ID          int
	ParentID    int // 0 = NULL
	CourseID    int
	Title       string
	Description string
	Location    string
	Start       int64
	Finish      int64
	Duration    int
	UpdatedDate int64
}

// EventAudience is an event_audience row.
type EventAudience struct {
	ID      int
	EventID int
	Type    string
	Value   string
}

// EventContact is an event_contacts row.
type EventContact struct {
	ID      int
	EventID int
	ProxyID int
	Role    string
	Order   int
}

// Setting is a settings row; OrganisationID 0 is NULL (global).
type Setting struct {
	ID             int
	Shortname      string
	OrganisationID int
	Value          string
}

// DirectoryUser is a directory account for a Graph simulator seed.
type DirectoryUser struct {
	ID                string
	DisplayName       string
	Mail              string
	UserPrincipalName string
	Mailbox           bool
}
