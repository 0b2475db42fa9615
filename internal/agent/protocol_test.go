package agent

import (
	"errors"
	"testing"
)

func TestDecodeAnswer(t *testing.T) {
	for _, tc := range []struct {
		line string
		ok   bool
	}{
		{`{"id":1,"status":"ok","n":3}`, true},
		{`{"id":2,"started":true,"tid":77}`, true},
		{`{"id":3,"status":"error","error":{"type":"ConnectionResetError","errno":104,"name":"ECONNRESET"}}`, true},
		{`{"id":4,"status":"ok","conn":"c1","local":"127.0.0.1:5","remote":"[::1]:6"}`, true},
		{`{"id":5,"status":"unsupported","reason":"no"}`, true},
		{`{"id":0,"status":"ok"}`, false},
		{`{"id":6,"status":"error"}`, false},
		{`{"id":7,"status":"maybe"}`, false},
		{`{"id":8,"status":"ok"} {"id":9}`, false},
		{`{"id":10,"started":true,"status":"ok"}`, false},
		{`{"id":11,"status":"ok","conn":"c1","local":"localhost","remote":"x"}`, false},
		{`Traceback (most recent call last):`, false},
		{`{"id":12,"status":"ok","n":-1}`, false},
		{``, false},
	} {
		_, err := DecodeAnswer([]byte(tc.line))
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.line, err)
		}
		if err != nil && !errors.Is(err, ErrNotProtocol) {
			t.Errorf("%s: %v does not wrap ErrNotProtocol", tc.line, err)
		}
	}
}

func TestDecodeHello(t *testing.T) {
	if _, err := DecodeHello([]byte(hello)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`{"protocol":2,"runtime":"x","api":"y"}`, `{"protocol":1}`, `hi`} {
		if _, err := DecodeHello([]byte(bad)); !errors.Is(err, ErrNotProtocol) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// FuzzDecode: no line makes the decoder panic, and a line it accepts is a
// well-formed answer.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"status":"ok","n":3}`,
		`{"id":2,"started":true,"tid":77}`,
		`{"id":3,"status":"error","error":{"type":"Error","code":"ECONNRESET","errno":104},"events":["'error' ECONNRESET","'close' hadError"]}`,
		`{"id":4,"status":"ok","conn":"c1","local":"127.0.0.1:5","remote":"[::1]:6"}`,
		hello,
		`{"id":1e400}`, `{"id":1,"status":"ok","n":1.5}`, "{\"id\":1,\"status\":\"ok\"}\x00", `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		a, err := DecodeAnswer(line)
		if err != nil {
			if !errors.Is(err, ErrNotProtocol) {
				t.Fatalf("%q: %v does not wrap ErrNotProtocol", line, err)
			}
			return
		}
		if a.ID == 0 || a.N < 0 || (!a.Started && a.Status == "") || (a.Status == StatusError && a.Error == nil) {
			t.Fatalf("%q: accepted %+v", line, a)
		}
		DecodeHello(line)
	})
}
