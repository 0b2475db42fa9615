package matrix

import (
	"io"
	"strings"
	"testing"

	"github.com/closematrix/closematrix/schema"
)

// FuzzParse feeds arbitrary bytes to Parse. Whatever it accepts must merge,
// render in every format (capped Markdown too), evaluate the claims and
// diff against itself with no change, all without a panic: a file that
// passes validation is one the whole package can handle.
//
//	go test ./matrix -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	// Small seeds only: the fuzzer minimises every input that finds new
	// coverage, and minimising a 30 KB fixture takes minutes of no progress.
	f.Add([]byte(small))
	f.Add([]byte(minimal))
	f.Add([]byte(strings.Replace(minimal, `"class":"eof"`, `"class":"<i>|x|</i>","errno":"&amp;","code":-1`, 1)))
	f.Add([]byte(strings.Replace(minimal, `"status":"observed"`, `"status":"skipped","reason":"a\nb|<c>"`, 1)))
	f.Add([]byte(wired))
	f.Add([]byte(`{"schema":1}`))
	f.Add([]byte(`{"schema":2}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line naming the file: %q", err)
			}
			return
		}
		m, err := Merge([]*schema.File{file})
		if err != nil {
			t.Fatalf("valid file does not merge: %v", err)
		}
		for _, format := range Formats {
			if err := Render(io.Discard, m, format, Options{}); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
		}
		var sb strings.Builder
		if err := WriteMarkdown(&sb, m, 700); err != nil || sb.Len() > 700 {
			t.Fatalf("capped Markdown: %d bytes, %v", sb.Len(), err)
		}
		if err := WriteClaims(io.Discard, m); err != nil {
			t.Fatal(err)
		}
		if c := Diff(file, file); len(c) != 0 {
			t.Fatalf("file differs from itself: %v", c)
		}
	})
}

// wired is a captured orderly release: both wire steps with their segments,
// which the ladder, the detail table and claim 14 read.
const wired = `{"schema":1,"platform":{"label":"linux-amd64-x-gonet","os":"linux","arch":"amd64"},"scenarios":[
{"id":"v4/close/orderly-release-wire","status":"observed","runs":1,"steps":[
 {"name":"peer.close","outcome":{"class":"ok"}},
 {"name":"wire.actor","outcome":{"class":"FIN"},"segments":[{"seq":0,"flags":"FIN+ACK"},{"seq":3,"flags":"ACK"}]},
 {"name":"wire.peer","outcome":{"class":"FIN"},"segments":[{"seq":1,"flags":"<b>ACK"},{"seq":2,"flags":"FIN+ACK","len":5}]}]}]}`

// small is a seed with a bit of everything the fixtures have: two platforms'
// worth of outcome kinds in one file, variants, a skip, an error, a state
// step, a wire step, a skipped step and markup.
const small = `{"schema":1,"tool":{"name":"closematrix","version":"v0","commit":"c"},
"platform":{"label":"windows-amd64","os":"windows","arch":"amd64","os_version":"<b>W</b>","emulator":"wine-8"},
"scenarios":[
{"id":"v4/close/idle","title":"t|<i>","labels":["close"],"status":"observed","runs":3,"steps":[
 {"name":"peer.recv","outcome":{"class":"eof","n":0,"errno":"","code":0},"variants":[]},
 {"name":"peer.send#2","outcome":{"class":"reset","errno":"WSAECONNRESET","code":10054},
  "variants":[{"class":"reset","errno":"WSAECONNRESET","code":10054,"count":2},{"class":"eof","count":1}],"note":"n"}]},
{"id":"v6/close/idle","status":"skipped","reason":"no IPv6"},
{"id":"v4/abort/idle","status":"error","reason":"bind"},
{"id":"v4/close/orderly-release","status":"observed","steps":[{"name":"actor.state","outcome":{"class":"FIN_WAIT_2"}},
 {"name":"wire.actor","outcome":{"class":"data+FIN,RST"}},{"name":"peer.poll","outcome":{"class":""},"skipped":"root"}]}]}`
