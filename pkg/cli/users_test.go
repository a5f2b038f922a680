package cli

import (
	"testing"
)

const someObjectID = "0f9e8d7c-6b5a-4321-9876-543210fedcba"

// users list's flags, and the arguments of users link and unlink: a proxy
// id and an Object ID (a GUID), checked before anything is read.
func TestUsersFlags(t *testing.T) {
	t.Run("list", func(t *testing.T) {
		testFlags(t, "users", newUsersListCmd, func(o *usersListOptions) any { c := *o; c.f = nil; return c }, []flagCase{
			{args: []string{"users", "list"}, want: usersListOptions{}},
			{args: []string{"users", "list", "--unmatched", "--course", "101"}, want: usersListOptions{unmatched: true, course: 101}},
			{args: []string{"users", "list", "--course", "0"}, wantErr: "--course 0 is not a course id (a positive whole number)"},
			{args: []string{"users", "list", "--course", "-2"}, wantErr: "--course -2 is not a course id (a positive whole number)"},
			{args: []string{"users", "list", "--course", "1", "--course", "2"}, want: usersListOptions{course: 2}},
		})
	})
	t.Run("link", func(t *testing.T) {
		testFlags(t, "users", newUsersLinkCmd, func(o *usersLinkOptions) any { c := *o; c.f = nil; return c }, []flagCase{
			{args: []string{"users", "link", "1234", someObjectID}, want: usersLinkOptions{proxyID: 1234, objectID: someObjectID}},
			{args: []string{"--dry-run", "users", "link", " 1234 ", " " + someObjectID + " ", "--force"},
				want: usersLinkOptions{proxyID: 1234, objectID: someObjectID, force: true, dryRun: true}},
			{args: []string{"users", "link", "x", someObjectID}, wantErr: `"x" is not a user id (a positive whole number)`},
			{args: []string{"users", "link", "0", "nope"}, wantErr: `"0" is not a user id (a positive whole number)`},
			{args: []string{"users", "link", "12", "nope"},
				wantErr: `"nope" is not an Object ID: use the user's GUID from Microsoft Entra, such as 0f9e8d7c-6b5a-4321-9876-543210fedcba`},
			{args: []string{"users", "link", "12", someObjectID + "0"}, wantErr: "is not an Object ID"},
			{args: []string{"users", "link", "12"}, wantErr: "accepts 2 arg(s), received 1"},
			{args: []string{"users", "link", "12", someObjectID, "13"}, wantErr: "accepts 2 arg(s), received 3"},
		})
	})
	t.Run("unlink", func(t *testing.T) {
		testFlags(t, "users", newUsersUnlinkCmd, func(o *usersUnlinkOptions) any { c := *o; c.f = nil; return c }, []flagCase{
			{args: []string{"users", "unlink", "1234"}, want: usersUnlinkOptions{proxyID: 1234}},
			{args: []string{"users", "unlink", "1234", "--dry-run"}, want: usersUnlinkOptions{proxyID: 1234, dryRun: true}},
			{args: []string{"users", "unlink", "abc"}, wantErr: `"abc" is not a user id (a positive whole number)`},
			{args: []string{"users", "unlink"}, wantErr: "accepts 1 arg(s), received 0"},
			{args: []string{"users", "unlink", "1", "--force"}, wantErr: "unknown flag: --force"},
		})
	})
}
