// Command antenne publishes a radio show as a podcast: it serves the feed,
// the media and the hosts' studio, and manages the catalog from the command
// line. Run `antenne help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], &env{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
	})
	stop()
	os.Exit(report(err, os.Stderr))
}

// env is what a command may touch of the outside world, so that tests can
// run commands in-process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// command is one `antenne NAME` subcommand.
type command struct {
	name    string
	summary string // one line, for `antenne help`
	usage   string // the synopsis and details, for `antenne help NAME`
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists every subcommand, in the order `antenne help` shows them.
func commands() []command {
	return []command{
		serveCommand,
		publishCommand,
		importCommand,
		showsCommand,
		episodesCommand,
		themesCommand,
		hostsCommand,
		checkCommand,
		versionCommand,
		probeCommand,
		{
			name:    "help",
			summary: "show the commands, or the usage of one",
			usage:   "usage: antenne help [COMMAND]",
			run:     runHelp,
		},
	}
}

// run executes the command named by args[0].
func run(ctx context.Context, args []string, e *env) error {
	if len(args) == 0 {
		printHelp(e.stderr)
		return usageErrorf("no command given")
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "-help" {
		name = "help"
	}
	for _, c := range commands() {
		if c.name == name {
			err := c.run(ctx, e, args[1:])
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(e.stdout, strings.TrimSpace(c.usage))
				return nil
			}
			return err
		}
	}
	return usageErrorf("unknown command %q; run `antenne help` for the list", name)
}

// usageError is a mistake in the command line or the configuration: the
// process exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// report prints err and returns the exit status: 0 for success, 2 for bad
// usage or configuration, 1 for any other failure.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "antenne: %v\n", err)
	var u *usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// newFlags returns a flag set for the named command whose errors are
// returned by parseFlags, not printed and exited on.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args with fs and turns flag errors into usage errors.
// Flags may come after positional arguments (antenne probe FILE --json);
// "--" ends the flags. fs.Args() holds the positional arguments afterwards.
// -h and --help return flag.ErrHelp, on which run prints the command's
// usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(flagsFirst(fs, args))
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return usageErrorf("%s: %v (see `antenne help %s`)", fs.Name(), err, fs.Name())
	}
	return err
}

// flagsFirst reorders args so that the flags come before the positional
// arguments, which the flag package requires.
func flagsFirst(fs *flag.FlagSet, args []string) []string {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(append(flags, "--"), positional...)
}

func runHelp(ctx context.Context, e *env, args []string) error {
	switch len(args) {
	case 0:
		printHelp(e.stdout)
		return nil
	case 1:
		for _, c := range commands() {
			if c.name == args[0] {
				fmt.Fprintln(e.stdout, strings.TrimSpace(c.usage))
				return nil
			}
		}
		return usageErrorf("unknown command %q; run `antenne help` for the list", args[0])
	default:
		return usageErrorf("help takes at most one command name")
	}
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, "antenne publishes a radio show as a podcast.\n\nusage: antenne COMMAND [ARGUMENTS]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun `antenne help COMMAND` for the usage of one command.\n"+
		"Configuration comes from ANTENNE_* environment variables; see `antenne help serve`.\n")
}
