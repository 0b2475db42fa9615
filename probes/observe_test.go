package probes

import (
	"errors"
	"testing"
)

func TestOpenFromTable(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{StateNone, StateClosed}, // open, but no connection listed: gone
		{StateEstablished, StateEstablished},
		{StateCloseWait, StateCloseWait},
		{StateTimeWait, StateTimeWait},
	} {
		if got, err := openFromTable(c.in, nil); got != c.want || err != nil {
			t.Errorf("openFromTable(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	bad := errors.New("no table")
	if _, err := openFromTable("", bad); !errors.Is(err, bad) {
		t.Errorf("error lost: %v", err)
	}
}

func TestStatesAgree(t *testing.T) {
	for _, c := range []struct {
		sock, table string
		agree       bool
	}{
		{StateEstablished, StateEstablished, true},
		{StateFinWait2, StateFinWait2, true},
		{StateClosed, StateNone, true},       // reset: the socket says CLOSED, the table has no row
		{StateClosed, StateTimeWait, true},   // Linux: an open socket's connection passed to a timewait sock
		{StateEstablished, StateNone, false}, // a live connection the table does not list
		{StateEstablished, StateFinWait2, false},
		{StateTimeWait, StateNone, false},
		{StateNone, StateClosed, false},
	} {
		if got := StatesAgree(c.sock, c.table); got != c.agree {
			t.Errorf("StatesAgree(%s, %s) = %v", c.sock, c.table, got)
		}
	}
}
