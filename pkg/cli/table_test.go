package cli

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/elentra-teams/elentra-teams/pkg/store"
)

func TestParseIDs(t *testing.T) {
	for _, tc := range []struct {
		kind    string
		args    []string
		want    []int
		wantErr string
	}{
		{"course", []string{"1", " 22 ", "1"}, []int{1, 22, 1}, ""},
		{"course", []string{"12", "abc"}, nil, `"abc" is not a course id (a positive whole number)`},
		{"event", []string{"0", "x", "5"}, nil, `"0", "x" are not event ids (a positive whole number)`},
		{"event", []string{"3.5"}, nil, `"3.5" is not an event id (a positive whole number)`},
		{"user", []string{"-4"}, nil, `"-4" is not a user id (a positive whole number)`},
	} {
		got, err := parseIDs(tc.kind, tc.args)
		if tc.wantErr == "" {
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("parseIDs(%q) = %v, %v; want %v", tc.args, got, err, tc.want)
			}
			continue
		}
		var fe *FlagError
		if !errors.As(err, &fe) || err.Error() != tc.wantErr {
			t.Errorf("parseIDs(%q) error = %v, want the usage error %q", tc.args, err, tc.wantErr)
		}
	}
}

func TestUnknownIDsAreAnInputErrorWithoutUsage(t *testing.T) {
	err := idsError(&store.UnknownIDsError{Kind: "course", Problems: []string{"course 9 does not exist in Elentra"}, Write: true})
	code, print, usage := exitCode(err)
	if code != ExitUsage || !print || usage {
		t.Errorf("exitCode(unknown ids) = %d, print %v, usage %v; want %d, printed, no usage", code, print, usage, ExitUsage)
	}
	other := errors.New("connection lost")
	if code, _, _ := exitCode(idsError(other)); code != ExitFailed {
		t.Errorf("idsError changed another error's exit code to %d", code)
	}
}

func TestPrintTableAlignsColumnsAndMarksEmptyCells(t *testing.T) {
	var b bytes.Buffer
	err := printTable(&b, []string{"ID", "NAME", "TEAM"}, [][]string{
		{"1", "Anatomy", ""},
		{"102", "Line\nbreak\tand tab", "5a1b…"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "ID   NAME                TEAM\n" +
		"1    Anatomy             -\n" +
		"102  Line break and tab  5a1b…\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}
