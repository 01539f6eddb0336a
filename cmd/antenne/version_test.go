package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionFromBuildInfo: `antenne version` says what the Go toolchain
// recorded (module version, revision, its time, changes not committed),
// falls back on the revision the Makefile gives the linker, and says why
// when there is none.
func TestVersionFromBuildInfo(t *testing.T) {
	const rev = "1ecb06804cc428c5d9397037c35feaeb3265d83f"
	stamped := "go\tgo1.26.8\npath\tgithub.com/picasoft/antenne/cmd/antenne\n" +
		"mod\tgithub.com/picasoft/antenne\tv0.0.0-20261208024248-1ecb06804cc4+dirty\t\n" +
		"build\tvcs=git\nbuild\tvcs.revision=" + rev + "\nbuild\tvcs.time=2026-12-08T02:42:48Z\nbuild\tvcs.modified=true\n"
	bare := "go\tgo1.26.8\npath\tgithub.com/picasoft/antenne/cmd/antenne\nmod\tgithub.com/picasoft/antenne\t(devel)\t\n"
	for _, tc := range []struct {
		name, info, fallback string
		short                string
		lines                []string
	}{
		{"stamped by the toolchain", stamped, "ignored", "v0.0.0-20261208024248-1ecb06804cc4+dirty", []string{
			"antenne v0.0.0-20261208024248-1ecb06804cc4+dirty",
			"revision " + rev + " (2026-12-08T02:42:48Z, with changes not committed)",
			"built with go1.26.8",
		}},
		{"revision from the linker", bare, rev + "-dirty", "devel-1ecb06804cc4-dirty", []string{
			"antenne (devel)",
			"revision " + rev + " (with changes not committed)",
		}},
		{"nothing recorded", bare, "", "devel", []string{
			"antenne (devel)",
			"revision unknown: built by `go run`",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := debug.ParseBuildInfo(tc.info)
			if err != nil {
				t.Fatal(err)
			}
			info.GoVersion = "go1.26.8" // ParseBuildInfo leaves it out
			b := buildOf(info, tc.fallback)
			if got := b.Short(); got != tc.short {
				t.Errorf("Short() = %q, want %q", got, tc.short)
			}
			out := b.String()
			for _, l := range tc.lines {
				if !strings.Contains(out, l) {
					t.Errorf("antenne version printed\n%s\nwant a line with %q", out, l)
				}
			}
		})
	}
}

// TestVersionCommand runs `antenne version` itself.
func TestVersionCommand(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), []string{"version"}, &env{stdout: &out, stderr: &out}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "antenne ") || !strings.Contains(out.String(), "revision ") {
		t.Errorf("antenne version printed %q", out.String())
	}
}
