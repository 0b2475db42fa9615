// Package matrix reads closematrix result files (schema 1 and 2, DESIGN §5), merges
// them into one comparison matrix, evaluates the claims of DESIGN §6 against
// it, renders it as Markdown, plain text, CSV, JSON or a self-contained HTML
// page, and compares a run against a baseline (drift).
//
// It is pure Go and reads JSON only: it imports neither the probes nor the
// harness, so a Windows column can be rendered on Linux and every output is
// the same on every OS.
//
// Conventions the renderers share, so that every format says the same thing:
//
//   - Columns are platforms, real systems before emulated ones (a Wine
//     column follows every real OS), then by OS family (Linux, Windows,
//     macOS, FreeBSD, then the others alphabetically), then by view (raw,
//     gonet, then any other alphabetically: platform.view, or for a file
//     without it the label's last segment, ViewOf), then by label. The order
//     never depends on the order of the input files. The page, the Markdown
//     and the text table fold them (Matrix.Layout): one table per view, one
//     column per OS family, whose platforms (architectures, runner versions)
//     share a cell where they recorded the same and split it, each part
//     named, where they did not.
//   - Rows are scenario × step, grouped by action (the second segment of
//     the ID <family>/<action>/<condition>). Groups appear in catalogue
//     order as first seen in the files (files taken in column order); within
//     a group family v4 comes before v6 (others after, alphabetically), then
//     catalogue order. Steps keep their recorded order; a step that only some
//     platforms recorded is placed after the step that precedes it there.
//   - Platforms disagree on a row when their observed cells differ in
//     behaviour: the set of classes seen (plus the byte count for data).
//     Native names and codes are not compared, because ECONNRESET 104,
//     ECONNRESET 54 and WSAECONNRESET 10054 are the same behaviour. A step
//     that varied (variants) disagrees with one that did not. Skipped, error
//     and missing cells take no part.
//   - An events row's cells are each readiness API's own flag names (epoll,
//     kqueue, AFD poll): they disagree only with a cell of the same API.
//     A completion's second code (IOCP's WSA code) is shown, not compared.
//   - Drift compares one platform with itself, so there the native name and
//     code do count: see Diff.
package matrix
