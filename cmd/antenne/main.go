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

	"github.com/picasoft/antenne/web"
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

// lang is the language the command line speaks: French when the
// locale is French (LANG=fr_FR.UTF-8...), English otherwise.
func (e *env) lang() string { return web.LangFromEnv(e.getenv) }

// t is the catalogue's text for key in the command line's language (the
// catalogue of the studio, web.Message).
func (e *env) t(key string, args ...any) string { return web.Message(e.lang(), key, args...) }

// progressBar draws on standard error when it is a terminal, in the
// command line's language.
func (e *env) progressBar() *progressBar {
	p := newProgressBar(e.stderr, isTerminal(e.stderr))
	p.lang = e.lang()
	return p
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
		healthcheckCommand,
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
		printHelp(e.stderr, e.lang())
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
	return usageErrorf("%s", e.t("cli.unknown", name))
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
		printHelp(e.stdout, e.lang())
		return nil
	case 1:
		for _, c := range commands() {
			if c.name == args[0] {
				fmt.Fprintln(e.stdout, strings.TrimSpace(c.usage))
				return nil
			}
		}
		return usageErrorf("%s", e.t("cli.unknown", args[0]))
	default:
		return usageErrorf("help takes at most one command name")
	}
}

// printHelp lists the commands in lang: their summaries come from the
// catalogue ("cli.cmd.<name>"), the command's own English one otherwise.
func printHelp(w io.Writer, lang string) {
	fmt.Fprint(w, web.Message(lang, "cli.help.intro"))
	for _, c := range commands() {
		summary := c.summary
		if key := "cli.cmd." + c.name; web.HasMessage(key) {
			summary = web.Message(lang, key)
		}
		fmt.Fprintf(w, "  %-10s %s\n", c.name, summary)
	}
	fmt.Fprint(w, web.Message(lang, "cli.help.outro"))
}
