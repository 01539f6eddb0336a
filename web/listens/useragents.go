package listens

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Kinds of user agents in useragents.json.
const (
	KindApp     = "app"
	KindBrowser = "browser"
	KindBot     = "bot"
)

// Unknown is the app family of a user agent the table does not know
// (an empty one included).
const Unknown = "unknown"

// Agent is what the table says of a user agent: the family ("AntennaPod",
// "Firefox", "Googlebot"...) and its kind (KindApp, KindBrowser, KindBot;
// empty for Unknown).
type Agent struct {
	Name, Kind string
}

// Bot reports whether the agent is never counted.
func (a Agent) Bot() bool { return a.Kind == KindBot }

//go:embed useragents.json
var userAgentsJSON []byte

type agentEntry struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Patterns []string `json:"patterns"`
}

type compiledEntry struct {
	agent Agent
	re    *regexp.Regexp
}

// Classifier maps user agents to families with the table of
// useragents.json. It is safe for concurrent use.
type Classifier struct {
	entries []compiledEntry

	mu    sync.Mutex
	cache map[string]Agent // user agent -> answer, cleared when full
}

// classifierCacheSize bounds the cache of answers: a few hundred distinct
// user agents make most of the traffic.
const classifierCacheSize = 4096

// parseTable reads and compiles a table in the format of useragents.json.
func parseTable(data []byte) ([]compiledEntry, error) {
	var doc struct {
		Entries []agentEntry `json:"entries"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read the user-agent table: %w", err)
	}
	var out []compiledEntry
	for i, e := range doc.Entries {
		switch e.Kind {
		case KindApp, KindBrowser, KindBot:
		default:
			return nil, fmt.Errorf("user-agent table: entry %d (%q): kind %q is not app, browser or bot", i, e.Name, e.Kind)
		}
		if e.Name == "" || len(e.Patterns) == 0 {
			return nil, fmt.Errorf("user-agent table: entry %d has no name or no pattern", i)
		}
		parts := make([]string, len(e.Patterns))
		for j, p := range e.Patterns {
			if _, err := regexp.Compile(p); err != nil {
				return nil, fmt.Errorf("user-agent table: %q pattern %q: %w", e.Name, p, err)
			}
			parts[j] = "(?:" + p + ")"
		}
		re, err := regexp.Compile(strings.Join(parts, "|"))
		if err != nil {
			return nil, fmt.Errorf("user-agent table: %q: %w", e.Name, err)
		}
		out = append(out, compiledEntry{agent: Agent{Name: e.Name, Kind: e.Kind}, re: re})
	}
	return out, nil
}

// builtinTable is the embedded table, compiled once.
var builtinTable = sync.OnceValues(func() ([]compiledEntry, error) { return parseTable(userAgentsJSON) })

// NewClassifier returns a classifier over the embedded table. It fails
// only when the table does not compile (a programmer's error, which the
// package's tests catch).
func NewClassifier() (*Classifier, error) {
	entries, err := builtinTable()
	if err != nil {
		return nil, err
	}
	return &Classifier{entries: entries, cache: map[string]Agent{}}, nil
}

// Classify returns the first entry of the table that matches ua, or
// Agent{Name: Unknown}.
func (c *Classifier) Classify(ua string) Agent {
	c.mu.Lock()
	a, ok := c.cache[ua]
	c.mu.Unlock()
	if ok {
		return a
	}
	a = Agent{Name: Unknown}
	for _, e := range c.entries {
		if e.re.MatchString(ua) {
			a = e.agent
			break
		}
	}
	c.mu.Lock()
	if len(c.cache) >= classifierCacheSize {
		clear(c.cache)
	}
	c.cache[ua] = a
	c.mu.Unlock()
	return a
}

// forget empties the cache of answers (called at midnight with the salt:
// the cache holds user agents seen that day).
func (c *Classifier) forget() {
	c.mu.Lock()
	clear(c.cache)
	c.mu.Unlock()
}
