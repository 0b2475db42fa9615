package matrix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/closematrix/closematrix/schema"
)

// FileError says which input file a problem is in. Every error that Load,
// LoadAll and Parse return is one, so that a command can print a single line
// that names the file: "results/x.json: schema 3, want 1 or 2".
type FileError struct {
	Name string // the path or name the file was read under
	Err  error
}

// Error reads "name: problem".
func (e *FileError) Error() string { return e.Name + ": " + e.Err.Error() }

// Unwrap lets errors.Is and errors.As see the cause.
func (e *FileError) Unwrap() error { return e.Err }

// ErrSchema is wrapped by the error for a file whose schema this reader does
// not accept (schema.Accepts: 1 and 2), so that callers can tell "newer tool
// needed" from damage with errors.Is. Its text is only "schema", so that the
// message reads "schema 3, want 1 or 2".
var ErrSchema = errors.New("schema")

// Load reads and validates one result file.
func Load(path string) (*schema.File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		// The *PathError already names the file; keep one name in the line.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &FileError{Name: path, Err: err}
	}
	return Parse(path, data)
}

// Parse decodes and validates one result file read under name. It never
// panics on any input (FuzzParse checks that), and a file it accepts can be
// merged and rendered in every format.
func Parse(name string, data []byte) (*schema.File, error) {
	f, err := decode(data)
	if err == nil {
		err = validate(f)
	}
	if err != nil {
		return nil, &FileError{Name: name, Err: err}
	}
	return f, nil
}

// decode checks the schema number before anything else: a file from a newer
// collector should say "schema 3, want 1 or 2", not fail on whichever field
// changed shape. A schema 1 file's steps get the kind their names imply
// (schema.KindOf), so that everything downstream sees schema 2.
func decode(data []byte) (*schema.File, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty file, want a JSON result file")
	}
	var head struct {
		Schema       json.RawMessage `json:"schema"`
		MergedSchema json.RawMessage `json:"merged_schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, jsonError(data, err)
	}
	if head.Schema == nil && head.MergedSchema != nil {
		// Easy to pick up with results/*.json when the merged JSON is
		// written next to the result files.
		return nil, errors.New("a merged matrix (render --format json), not a result file")
	}
	if head.Schema == nil || string(head.Schema) == "null" {
		return nil, fmt.Errorf("no schema field, want %s: not a closematrix result file?", wantSchema)
	}
	var version int
	if err := json.Unmarshal(head.Schema, &version); err != nil {
		// Quote what was there on one line: it may be any JSON value.
		return nil, fmt.Errorf("%w %s, want %s", ErrSchema, shorten(strings.Join(strings.Fields(string(head.Schema)), " "), 20), wantSchema)
	}
	if !schema.Accepts(version) {
		return nil, fmt.Errorf("%w %d, want %s", ErrSchema, version, wantSchema)
	}
	f := new(schema.File)
	if err := json.Unmarshal(data, f); err != nil {
		return nil, jsonError(data, err)
	}
	if f.Schema == 1 {
		for i := range f.Scenarios {
			for j := range f.Scenarios[i].Steps {
				st := &f.Scenarios[i].Steps[j]
				st.Kind = schema.KindOf(st.Name)
			}
		}
	}
	return f, nil
}

// wantSchema names the schemas this reader accepts, for messages.
const wantSchema = "1 or 2"

// jsonError turns encoding/json's errors into one line that says where.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line := 1 + bytes.Count(data[:min(int(syn.Offset), len(data))], []byte("\n"))
		if truncated(data) {
			return fmt.Errorf("truncated JSON: %v (line %d)", err, line)
		}
		return fmt.Errorf("not valid JSON: %v (line %d, byte %d)", err, line, syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Errorf("top level is a JSON %s, want an object", typ.Value)
		}
		return fmt.Errorf("field %s: JSON %s, want %s", typ.Field, typ.Value, typ.Type)
	}
	return fmt.Errorf("not valid JSON: %v", err)
}

// truncated tells a document cut short from one that is wrong: the
// streaming decoder reports io.ErrUnexpectedEOF only for the first.
func truncated(data []byte) bool {
	var v any
	return errors.Is(json.NewDecoder(bytes.NewReader(data)).Decode(&v), io.ErrUnexpectedEOF)
}

// LoadAll loads every path, expanding a directory to the *.json files directly
// in it (sorted), and refuses two files that claim the same platform label:
// the merged matrix has one column per label.
func LoadAll(paths []string) ([]*schema.File, error) {
	var files []*schema.File
	seen := map[string]string{} // label → path
	for _, p := range paths {
		names, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			f, err := Load(name)
			if err != nil {
				return nil, err
			}
			if prev, dup := seen[f.Platform.Label]; dup {
				return nil, &FileError{Name: name, Err: fmt.Errorf("platform label %q is also in %s: one file per label", f.Platform.Label, prev)}
			}
			seen[f.Platform.Label] = name
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return nil, errors.New("no result files given")
	}
	return files, nil
}

// expand returns p itself, or for a directory its *.json files.
func expand(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil || !st.IsDir() {
		return []string{p}, nil // Load reports a missing file with its name
	}
	names, err := filepath.Glob(filepath.Join(p, "*.json"))
	if err != nil {
		return nil, &FileError{Name: p, Err: err}
	}
	if len(names) == 0 {
		return nil, &FileError{Name: p, Err: errors.New("directory has no *.json result files")}
	}
	sort.Strings(names)
	return names, nil
}

// shorten cuts s to at most n runes, for quoting bad input in a message.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n])) + "…"
}
