package harness

import (
	"slices"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/internal/agent"
	"github.com/closematrix/closematrix/schema"
)

// TestJavaClasses checks that a Java exception's class comes from the
// table, by type and exact message, that a message the table does not hold
// (another locale's strerror, say) is class other with the runtime's words
// in the cell, and that the table's rows are well formed.
func TestJavaClasses(t *testing.T) {
	h := agent.Hello{Runtime: "Java"}
	for _, tc := range []struct {
		e     agent.Error
		class schema.Class
		words string
	}{
		{agent.Error{Type: "java.net.SocketException", Message: "Connection reset"}, schema.ClassReset, `SocketException "Connection reset"`},
		{agent.Error{Type: "java.io.IOException", Message: "Broken pipe"}, schema.ClassBrokenPipe, `IOException "Broken pipe"`},
		{agent.Error{Type: "java.io.IOException", Message: "Connection reset by peer"}, schema.ClassReset, `IOException "Connection reset by peer"`},
		{agent.Error{Type: "java.nio.channels.ClosedChannelException"}, schema.ClassClosed, "ClosedChannelException"},
		{agent.Error{Type: "java.nio.channels.AsynchronousCloseException"}, schema.ClassClosed, "AsynchronousCloseException"},
		// glibc's de_DE text for EPIPE: not in the table, so not guessed.
		{agent.Error{Type: "java.io.IOException", Message: "Datenübergabe unterbrochen (broken pipe)"}, schema.ClassOther, `IOException "Datenübergabe unterbrochen (broken pipe)"`},
		// The same message under another type is not the row.
		{agent.Error{Type: "java.io.IOException", Message: "Connection reset"}, schema.ClassOther, `IOException "Connection reset"`},
	} {
		o := errorOutcome(h, &tc.e, nil)
		if o.Class != tc.class || o.Errno != tc.words {
			t.Errorf("%s %q: got %s %q, want %s %q", tc.e.Type, tc.e.Message, o.Class, o.Errno, tc.class, tc.words)
		}
	}
	for _, r := range javaClasses {
		if !isJavaType(r.typ) || r.source == "" || !slices.Contains(schema.Classes, r.class) {
			t.Errorf("row %q %q: want a Java type, a source and a class of the vocabulary (%s)", r.typ, r.msg, r.class)
		}
	}
	// A non-Java error never reaches the table, whatever its message.
	if _, ok := javaClass(&agent.Error{Type: "ConnectionResetError", Message: "Connection reset"}); ok {
		t.Error("a Python error matched the Java table")
	}
}

// TestRuntimeNamesLocale checks that a hello's locale reaches
// platform.runtime (Java's messages are localized).
func TestRuntimeNamesLocale(t *testing.T) {
	h := agent.Hello{Runtime: "Java", Version: "17.0.15", API: "SocketChannel",
		Options: map[string]any{"locale": "de_DE", "messages_env": "LANG=de_DE.UTF-8"}}
	if got := runtimeWords(h); !strings.Contains(got, "locale de_DE (LANG=de_DE.UTF-8)") {
		t.Errorf("runtime %q does not name the locale", got)
	}
}
