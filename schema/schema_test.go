package schema

import "testing"

// TestKindOf: the grammar fixes every step's kind, so a schema 1 file's
// steps get theirs from their names.
func TestKindOf(t *testing.T) {
	for name, want := range map[string]Kind{
		"peer.recv": KindCall, "actor.blocked-recv": KindCall, "actor.action": KindCall, "net.up": KindCall,
		"peer.drain": KindCall, "peer.close": KindCall,
		"actor.state": KindState, "peer.state#2": KindState,
		"peer.poll":   KindPoll,
		"wire.actor":  KindWire,
		"peer.events": KindEvents, "actor.events#3": KindEvents,
		"peer.pending-recv": KindCompletion, "actor.pending-recv": KindCompletion,
		"tcp.rsts-sent": KindCounter, "tcp.rsts-sent#2": KindCounter, "peer.rsts-sent": KindCall,
	} {
		if got := KindOf(name); got != want {
			t.Errorf("KindOf(%q) = %q, want %q", name, got, want)
		}
	}
	seen := map[Kind]bool{}
	for _, k := range Kinds {
		seen[k] = true
	}
	if len(seen) != 7 {
		t.Errorf("Kinds has %d distinct kinds, want 7", len(seen))
	}
}

func TestCompletionText(t *testing.T) {
	var none *Completion
	if none.Text() != "" || (&Completion{API: "io_uring", Done: true, Errno: "ECONNRESET", Code: 104}).Text() != "" {
		t.Error("a completion without a WSA code adds text")
	}
	c := &Completion{API: "iocp", Done: true, Errno: "ERROR_NETNAME_DELETED", Code: 64, WSA: "WSAECONNRESET", WSACode: 10054}
	if got := c.Text(); got != " (WSA: WSAECONNRESET 10054)" {
		t.Errorf("Text() = %q", got)
	}
	if !Accepts(1) || !Accepts(Version) || Accepts(3) || Accepts(0) {
		t.Error("Accepts: want 1 and 2 only")
	}
}
