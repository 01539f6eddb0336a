package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
)

var versionCommand = command{
	name:    "version",
	summary: "print the version of antenne",
	usage: `usage: antenne version

Prints the module version of antenne, the VCS revision it was built from
(its commit, when that commit was made, and whether the tree had changes
not committed) and the Go toolchain that built it, as the Go toolchain
recorded them in the binary.`,
	run: func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usageErrorf("version takes no arguments")
		}
		fmt.Fprint(e.stdout, readBuild().String())
		return nil
	},
}

// buildRevision is the VCS revision the Makefile passes to the linker
// (-X main.buildRevision=...), used only when the build information has
// none: the Go toolchain records it when it builds in a git checkout, but
// not in a git worktree, under `go run`, or with -buildvcs=false.
var buildRevision string

// build is what the build information says of this binary.
type build struct {
	// Module is the module version: a tag (v1.2.0), or a pseudo-version
	// naming the commit (v0.0.0-20261208024248-1ecb06804cc4), "+dirty"
	// when the tree had changes; "(devel)" when the toolchain knew none.
	Module string
	// Revision is the VCS revision (a git commit), "" when unknown; Time
	// its commit time (RFC 3339), Modified whether the tree had changes.
	Revision, Time string
	Modified       bool
	// Go is the toolchain that built the binary.
	Go string
}

// readBuild reads the running binary's build information.
func readBuild() build {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return build{Module: "(devel)", Revision: buildRevision}
	}
	return buildOf(info, buildRevision)
}

// buildOf reads info; fallbackRevision stands for a revision info lacks.
func buildOf(info *debug.BuildInfo, fallbackRevision string) build {
	b := build{Module: info.Main.Version, Go: info.GoVersion}
	if b.Module == "" {
		b.Module = "(devel)"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	if b.Revision == "" {
		rev, dirty := strings.CutSuffix(fallbackRevision, "-dirty")
		b.Revision, b.Modified = rev, dirty
	}
	return b
}

// Short is the version in one word, for the feed's generator, NodeInfo
// and the User-Agent: the module version, or "devel-" and the revision's
// first 12 digits when the module version is not known.
func (b build) Short() string {
	if b.Module != "(devel)" {
		return b.Module
	}
	if len(b.Revision) >= 12 {
		v := "devel-" + b.Revision[:12]
		if b.Modified {
			v += "-dirty"
		}
		return v
	}
	return "devel"
}

// String is the text of `antenne version`: the module version, the
// revision (or why there is none) and the toolchain, one per line.
func (b build) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "antenne %s\n", b.Module)
	switch {
	case b.Revision != "":
		fmt.Fprintf(&s, "revision %s", b.Revision)
		var notes []string
		if b.Time != "" {
			notes = append(notes, b.Time)
		}
		if b.Modified {
			notes = append(notes, "with changes not committed")
		}
		if len(notes) > 0 {
			fmt.Fprintf(&s, " (%s)", strings.Join(notes, ", "))
		}
		s.WriteString("\n")
	default:
		s.WriteString("revision unknown: built by `go run`, with -buildvcs=false or outside a git checkout (`make build` records it)\n")
	}
	if b.Go != "" {
		fmt.Fprintf(&s, "built with %s\n", b.Go)
	}
	return s.String()
}

// version is the version in one word (see build.Short).
func version() string { return readBuild().Short() }
