package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/web/accounts"
)

var hostsCommand = command{
	name:    "hosts",
	summary: "manage the hosts' accounts and API tokens",
	usage: `usage: antenne hosts add LOGIN [--name NAME] [--admin] [--show S]... [--password P | --password-stdin]
       antenne hosts passwd LOGIN [--password-stdin]
       antenne hosts remove LOGIN
       antenne hosts list [--json]
       antenne hosts token create LOGIN
       antenne hosts token revoke LOGIN TOKEN_ID

Hosts sign in to the studio (/studio/) and use the API (/api/v1/) with a
token. Admins manage every show and the accounts; other hosts act only on
the shows given with --show.

add and passwd ask for the password twice, without echo, when run on a
terminal; --password-stdin reads it from the first line of the standard
input instead (for scripts). passwd signs the host out everywhere.

token create prints a new API token as the last word of its output. It is
shown once: antenne keeps only its hash. Use it as
"Authorization: Bearer TOKEN", or with antenne publish --token.

The store is the one ANTENNE_* names (see antenne help serve).`,
	run: runHosts,
}

func runHosts(ctx context.Context, e *env, args []string) error {
	return subcommand(ctx, e, "hosts", args, map[string]func(context.Context, *env, []string) error{
		"add":    hostsAdd,
		"passwd": hostsPasswd,
		"remove": hostsRemove,
		"list":   hostsList,
		"token": func(ctx context.Context, e *env, args []string) error {
			return subcommand(ctx, e, "hosts", args, map[string]func(context.Context, *env, []string) error{
				"create": hostsTokenCreate,
				"revoke": hostsTokenRevoke,
			})
		},
	})
}

func hostsAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlags("hosts")
	var (
		name     = fs.String("name", "", "")
		admin    = fs.Bool("admin", false, "")
		password = fs.String("password", "", "")
		stdin    = fs.Bool("password-stdin", false, "")
		shows    stringList
	)
	fs.Var(&shows, "show", "")
	c, err := openCatalog(ctx, e, fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("hosts add: want one LOGIN (see `antenne help hosts`)")
	}
	if *password != "" && *stdin {
		return usageErrorf("hosts add: --password and --password-stdin exclude each other")
	}
	login := fs.Arg(0)
	for _, s := range shows {
		if _, err := c.svc.Show(s); err != nil {
			return usageErrorf("hosts add: no show %q (see `antenne shows list`)", s)
		}
	}
	pw := *password
	if pw == "" {
		if pw, err = readPassword(e, *stdin); err != nil {
			return err
		}
	}
	h, err := c.hosts.AddHost(ctx, accounts.Host{Login: login, Name: *name, Admin: *admin, Shows: shows}, pw)
	if err != nil {
		return fmt.Errorf("hosts add %s: %w", login, err)
	}
	role := "host of " + strings.Join(h.Shows, ", ")
	if h.Admin {
		role = "admin"
	} else if len(h.Shows) == 0 {
		role = "host of no show yet"
	}
	fmt.Fprintf(e.stdout, "added %s (%s)\n", h.Login, role)
	return nil
}

func hostsPasswd(ctx context.Context, e *env, args []string) error {
	fs := newFlags("hosts")
	stdin := fs.Bool("password-stdin", false, "")
	c, err := openCatalog(ctx, e, fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("hosts passwd: want one LOGIN (see `antenne help hosts`)")
	}
	if _, err := c.hosts.Host(fs.Arg(0)); err != nil {
		return fmt.Errorf("no host %q (see `antenne hosts list`)", fs.Arg(0))
	}
	pw, err := readPassword(e, *stdin)
	if err != nil {
		return err
	}
	if err := c.hosts.SetPassword(ctx, fs.Arg(0), pw); err != nil {
		return fmt.Errorf("hosts passwd %s: %w", fs.Arg(0), err)
	}
	fmt.Fprintf(e.stdout, "password of %s changed; their sessions are closed\n", fs.Arg(0))
	return nil
}

func hostsRemove(ctx context.Context, e *env, args []string) error {
	fs := newFlags("hosts")
	c, err := openCatalog(ctx, e, fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("hosts remove: want one LOGIN (see `antenne help hosts`)")
	}
	if err := c.hosts.RemoveHost(ctx, fs.Arg(0)); err != nil {
		if errors.Is(err, episodes.ErrNotFound) {
			return fmt.Errorf("no host %q (see `antenne hosts list`)", fs.Arg(0))
		}
		return fmt.Errorf("hosts remove %s: %w", fs.Arg(0), err)
	}
	fmt.Fprintf(e.stdout, "removed %s\n", fs.Arg(0))
	return nil
}

// hostJSON is a host as `hosts list --json` prints it: no hashes.
type hostJSON struct {
	Login       string      `json:"login"`
	Name        string      `json:"name,omitempty"`
	Admin       bool        `json:"admin"`
	Shows       []string    `json:"shows"`
	HasPassword bool        `json:"has_password"`
	Tokens      []tokenJSON `json:"tokens"`
}

type tokenJSON struct {
	ID       string     `json:"id"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used,omitempty"`
}

func hostsList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("hosts")
	asJSON := fs.Bool("json", false, "")
	c, err := openCatalog(ctx, e, fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErrorf("hosts list takes no arguments")
	}
	list := []hostJSON{}
	for _, h := range c.hosts.Hosts() {
		j := hostJSON{Login: h.Login, Name: h.Name, Admin: h.Admin, Shows: append([]string{}, h.Shows...), HasPassword: h.PasswordHash != "", Tokens: []tokenJSON{}}
		for _, t := range h.Tokens {
			tj := tokenJSON{ID: t.ID, Created: t.Created}
			if !t.LastUsed.IsZero() {
				tj.LastUsed = &t.LastUsed
			}
			j.Tokens = append(j.Tokens, tj)
		}
		list = append(list, j)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stderr, "no host yet: add one with `antenne hosts add LOGIN --admin`")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tNAME\tROLE\tSHOWS\tTOKENS")
	for _, h := range list {
		role := "host"
		if h.Admin {
			role = "admin"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", h.Login, h.Name, role, strings.Join(h.Shows, ","), len(h.Tokens))
	}
	return tw.Flush()
}

func hostsTokenCreate(ctx context.Context, e *env, args []string) error {
	fs := newFlags("hosts")
	c, err := openCatalog(ctx, e, fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("hosts token create: want one LOGIN (see `antenne help hosts`)")
	}
	token, t, err := c.hosts.CreateToken(ctx, fs.Arg(0))
	if err != nil {
		if errors.Is(err, episodes.ErrNotFound) {
			return fmt.Errorf("no host %q (see `antenne hosts list`)", fs.Arg(0))
		}
		return fmt.Errorf("hosts token create: %w", err)
	}
	fmt.Fprintf(e.stderr, "token %s created for %s; it is shown only now, keep it safe\n", t.ID, fs.Arg(0))
	fmt.Fprintln(e.stdout, token)
	return nil
}

func hostsTokenRevoke(ctx context.Context, e *env, args []string) error {
	fs := newFlags("hosts")
	c, err := openCatalog(ctx, e, fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErrorf("hosts token revoke: want LOGIN and TOKEN_ID (see `antenne hosts list`)")
	}
	if err := c.hosts.RevokeToken(ctx, fs.Arg(0), fs.Arg(1)); err != nil {
		if errors.Is(err, episodes.ErrNotFound) {
			return fmt.Errorf("no token %q for host %q (see `antenne hosts list`)", fs.Arg(1), fs.Arg(0))
		}
		return fmt.Errorf("hosts token revoke: %w", err)
	}
	fmt.Fprintf(e.stdout, "revoked token %s of %s\n", fs.Arg(1), fs.Arg(0))
	return nil
}

// readPassword reads a new password: the first line of stdin with
// fromStdin, else twice without echo on the terminal.
func readPassword(e *env, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read the password from stdin: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", usageErrorf("--password-stdin: the standard input is empty")
		}
		return pw, nil
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usageErrorf("no password given: use --password-stdin, or run on a terminal to be asked")
	}
	ask := func(prompt string) (string, error) {
		fmt.Fprint(e.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		return string(b), nil
	}
	first, err := ask("Password: ")
	if err != nil {
		return "", err
	}
	second, err := ask("Again: ")
	if err != nil {
		return "", err
	}
	if first != second {
		return "", errors.New("the two passwords differ: nothing changed")
	}
	return first, nil
}
