package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// documentedVariables are the ANTENNE_* variables of the configuration
// table of docs/configuration.md.
func documentedVariables(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	name := regexp.MustCompile("`(ANTENNE_[A-Z0-9_]+)`")
	for line := range strings.Lines(string(doc)) {
		if !strings.HasPrefix(line, "| `ANTENNE_") {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "|"), "|")
		for _, m := range name.FindAllStringSubmatch(first, -1) {
			names = append(names, m[1])
		}
	}
	return names
}

// knownVariables are the variables antenne reads: every setting, and the
// _FILE variable of each secret.
func knownVariables() []string {
	var names []string
	for _, s := range settings {
		names = append(names, s.env)
		if s.secret() {
			names = append(names, s.env+"_FILE")
		}
	}
	return names
}

// TestConfigurationTableIsComplete: the table of docs/configuration.md
// lists every variable antenne reads, and nothing else.
func TestConfigurationTableIsComplete(t *testing.T) {
	documented, known := documentedVariables(t), knownVariables()
	for _, v := range known {
		if !slices.Contains(documented, v) {
			t.Errorf("%s is read by antenne but not in the table of docs/configuration.md", v)
		}
	}
	for _, v := range documented {
		if !slices.Contains(known, v) {
			t.Errorf("%s is in the table of docs/configuration.md but antenne does not read it", v)
		}
	}
}

// composeFile is what the test reads of deploy/compose.yaml.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Environment map[string]string `yaml:"environment"`
		Secrets     []string          `yaml:"secrets"`
		Volumes     []string          `yaml:"volumes"`
		Labels      map[string]string `yaml:"labels"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

// TestComposeFile parses deploy/compose.yaml: its ANTENNE_* variables are
// all documented (no misspelt or unknown one), its secrets come through
// _FILE variables naming secrets it declares, its volumes are declared,
// and antenne is checked with `antenne healthcheck` behind Traefik labels.
func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	documented := documentedVariables(t)
	app, ok := c.Services["antenne"]
	if !ok {
		t.Fatalf("deploy/compose.yaml has no service antenne: %v", c.Services)
	}
	for name, svc := range c.Services {
		for v, value := range svc.Environment {
			if !strings.HasPrefix(v, "ANTENNE_") {
				continue
			}
			if !slices.Contains(documented, v) {
				t.Errorf("service %s sets %s, which docs/configuration.md does not document", name, v)
			}
			if secretSettings[v] {
				t.Errorf("service %s sets the secret %s in its environment: use %s_FILE", name, v, v)
			}
			if secret, ok := strings.CutPrefix(value, "/run/secrets/"); ok {
				if !slices.Contains(svc.Secrets, secret) {
					t.Errorf("service %s: %s=%s names a secret the service is not given", name, v, value)
				}
				if _, ok := c.Secrets[secret]; !ok {
					t.Errorf("service %s: %s=%s names an undeclared secret", name, v, value)
				}
			}
		}
		for _, vol := range svc.Volumes {
			source, _, _ := strings.Cut(vol, ":")
			if !strings.HasPrefix(source, ".") && !strings.HasPrefix(source, "/") {
				if _, ok := c.Volumes[source]; !ok {
					t.Errorf("service %s uses the undeclared volume %s", name, source)
				}
			}
		}
	}
	for _, v := range []string{"ANTENNE_BASE_URL", "ANTENNE_S3_ENDPOINT", "ANTENNE_S3_SECRET_KEY_FILE", "ANTENNE_SESSION_KEY_FILE"} {
		if app.Environment[v] == "" {
			t.Errorf("service antenne does not set %s", v)
		}
	}
	if len(c.Volumes) == 0 {
		t.Errorf("no named volume: the bucket's data would die with its container")
	}
	if got := strings.Join(app.Healthcheck.Test, " "); got != "CMD antenne healthcheck" {
		t.Errorf("antenne's health check: got %q, want CMD antenne healthcheck", got)
	}
	if app.Labels["traefik.enable"] != "true" || app.Labels["traefik.http.services.antenne.loadbalancer.server.port"] != "8080" {
		t.Errorf("antenne's Traefik labels: got %v", app.Labels)
	}
}

// TestSystemdUnit reads deploy/antenne.service: its ANTENNE_* variables
// are documented, and no value carries a comment (systemd would take it
// as part of the value).
func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/antenne.service")
	if err != nil {
		t.Fatal(err)
	}
	documented := documentedVariables(t)
	for line := range strings.Lines(string(raw)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("deploy/antenne.service: %q is not key=value", line)
			continue
		}
		if strings.Contains(value, " #") {
			t.Errorf("deploy/antenne.service: %s= carries a comment, which systemd would read as part of the value: %q", key, line)
		}
		if key == "Environment" {
			v, _, _ := strings.Cut(value, "=")
			if !slices.Contains(documented, v) {
				t.Errorf("deploy/antenne.service sets %s, which docs/configuration.md does not document", v)
			}
		}
	}
}
