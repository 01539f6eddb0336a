package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/web"
	"github.com/picasoft/antenne/web/websub"
)

// config is antenne's whole configuration, read once from ANTENNE_*
// environment variables and command-line flags (flags win), then validated.
type config struct {
	Addr           string
	BaseURL        *url.URL
	DataDir        string
	S3             s3Config
	MediaURL       *url.URL // nil: media are served by antenne
	MaxUpload      int64
	FFmpeg         string // "" means ffmpeg from PATH
	IngestWorkers  int    // recordings processed at once by this replica, hence ffmpeg processes
	LogLevel       slog.Level
	LogFormat      string // "text" or "json"
	LogIPs         bool   // client addresses in the access log
	TrustedProxies []string
	MetricsAllowed []netip.Prefix // empty: loopback
	ShutdownGrace  time.Duration
	BodyIdle       time.Duration
	SessionKey     []byte // nil: the key kept in the store
	// FetchAllowPrivate lets antenne fetch URLs at private and loopback
	// addresses (see package feed/fetch).
	FetchAllowPrivate bool
	// MaxDuration is the longest recording accepted.
	MaxDuration time.Duration
	// WebSubHubs are the WebSub hubs told of each change of a feed.
	WebSubHubs []string
}

// s3Config selects the S3 store when Endpoint is set.
type s3Config struct {
	Endpoint     string
	Bucket       string
	Region       string
	AccessKey    string
	SecretKey    string
	Secure       bool
	PathStyle    bool
	CreateBucket bool
}

// setting is one configuration variable: its environment name, its flag,
// its default and how it lands in config. The table below drives parsing,
// flags and the help text, so the three never disagree.
type setting struct {
	env   string
	flag  string
	def   string
	help  string
	apply func(c *config, v string) error
}

// secretSettings can also be read from the file named by their variable
// plus "_FILE" (Docker secrets, systemd credentials), and their flag's
// default never shows the value (help text, usage errors).
var secretSettings = map[string]bool{"ANTENNE_S3_SECRET_KEY": true, "ANTENNE_SESSION_KEY": true}

func (s setting) secret() bool { return secretSettings[s.env] }

// maxSecretFile bounds a secret read from a _FILE variable.
const maxSecretFile = 64 << 10

var settings = []setting{
	{"ANTENNE_ADDR", "addr", ":8080", "listen address, host:port", func(c *config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("want host:port such as :8080 or 127.0.0.1:8080, got %q", v)
		}
		c.Addr = v
		return nil
	}},
	{"ANTENNE_BASE_URL", "base-url", "http://localhost:8080", "public URL of the site, used in the feed and links", func(c *config, v string) error {
		u, err := parseHTTPURL(v)
		c.BaseURL = u
		return err
	}},
	{"ANTENNE_DATA_DIR", "data-dir", "./data", "folder of the local store (when no S3 endpoint is set)", func(c *config, v string) error {
		if v == "" {
			return fmt.Errorf("must not be empty")
		}
		c.DataDir = v
		return nil
	}},
	{"ANTENNE_S3_ENDPOINT", "s3-endpoint", "", "S3 endpoint host:port; setting it selects the S3 store", func(c *config, v string) error {
		if strings.Contains(v, "://") {
			return fmt.Errorf("want host:port without a scheme (use ANTENNE_S3_SECURE for TLS), got %q", v)
		}
		c.S3.Endpoint = v
		return nil
	}},
	{"ANTENNE_S3_BUCKET", "s3-bucket", "antenne", "S3 bucket", func(c *config, v string) error {
		if len(v) < 3 || len(v) > 63 || strings.ToLower(v) != v || strings.ContainsAny(v, " /_") {
			return fmt.Errorf("want a bucket name of 3 to 63 lowercase letters, digits, dots or hyphens, got %q", v)
		}
		c.S3.Bucket = v
		return nil
	}},
	{"ANTENNE_S3_REGION", "s3-region", "us-east-1", "S3 region (Garage wants \"garage\")", setString(func(c *config) *string { return &c.S3.Region })},
	{"ANTENNE_S3_ACCESS_KEY", "s3-access-key", "", "S3 access key", setString(func(c *config) *string { return &c.S3.AccessKey })},
	{"ANTENNE_S3_SECRET_KEY", "s3-secret-key", "", "S3 secret key (or ANTENNE_S3_SECRET_KEY_FILE: a file holding it)", setString(func(c *config) *string { return &c.S3.SecretKey })},
	{"ANTENNE_S3_SECURE", "s3-secure", "true", "use TLS to reach the S3 endpoint", setBool(func(c *config) *bool { return &c.S3.Secure })},
	{"ANTENNE_S3_PATH_STYLE", "s3-path-style", "false", "always address the bucket in the path; when false, path style except on AWS", setBool(func(c *config) *bool { return &c.S3.PathStyle })},
	{"ANTENNE_S3_CREATE_BUCKET", "s3-create-bucket", "false", "create the bucket at start when it does not exist", setBool(func(c *config) *bool { return &c.S3.CreateBucket })},
	{"ANTENNE_MEDIA_URL", "media-url", "", "public base URL of the media; when set, media requests redirect there", func(c *config, v string) error {
		if v == "" {
			return nil
		}
		u, err := parseHTTPURL(v)
		c.MediaURL = u
		return err
	}},
	{"ANTENNE_MAX_UPLOAD", "max-upload", "", "largest upload accepted, in bytes or with a unit (500MB, 2GiB); unset: 2 GiB", func(c *config, v string) error {
		if v == "" {
			c.MaxUpload = web.DefaultMaxUpload
			return nil
		}
		n, err := parseSize(v)
		c.MaxUpload = n
		return err
	}},
	{"ANTENNE_FFMPEG", "ffmpeg", "", "path of ffmpeg (found on PATH when empty)", setString(func(c *config) *string { return &c.FFmpeg })},
	{"ANTENNE_INGEST_WORKERS", "ingest-workers", "", "recordings processed (transcoded) at once by this replica, hence ffmpeg processes at most (default: half the CPUs, at least 1)", func(c *config, v string) error {
		c.IngestWorkers = episodes.DefaultIngestWorkers()
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 256 {
			return fmt.Errorf("want a whole number from 1 to 256, got %q", v)
		}
		c.IngestWorkers = n
		return nil
	}},
	{"ANTENNE_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", func(c *config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{"ANTENNE_LOG_FORMAT", "log-format", "text", "text or json", func(c *config, v string) error {
		if v != "text" && v != "json" {
			return fmt.Errorf("want text or json, got %q", v)
		}
		c.LogFormat = v
		return nil
	}},
	{"ANTENNE_LOG_IPS", "log-ips", "false", "put client addresses in the access log (debugging only; off, no log line names a listener)", setBool(func(c *config) *bool { return &c.LogIPs })},
	{"ANTENNE_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed", func(c *config, v string) error {
		c.TrustedProxies = nil
		for p := range strings.SplitSeq(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if net.ParseIP(p) == nil {
				if _, _, err := net.ParseCIDR(p); err != nil {
					return fmt.Errorf("%q is neither an IP address nor a CIDR", p)
				}
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
		return nil
	}},
	{"ANTENNE_METRICS_ALLOWED", "metrics-allowed", "127.0.0.0/8,::1", "comma-separated addresses or CIDRs that may read /metrics (others get 403)", func(c *config, v string) error {
		c.MetricsAllowed = nil
		for p := range strings.SplitSeq(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			prefix, err := netip.ParsePrefix(p)
			if err != nil {
				a, aerr := netip.ParseAddr(p)
				if aerr != nil {
					return fmt.Errorf("%q is neither an IP address nor a CIDR", p)
				}
				prefix = netip.PrefixFrom(a, a.BitLen())
			}
			c.MetricsAllowed = append(c.MetricsAllowed, prefix.Masked())
		}
		return nil
	}},
	{"ANTENNE_BODY_IDLE_TIMEOUT", "body-idle-timeout", "60s", "how long a request body may send nothing before it is dropped (slow clients)", func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err == nil && d <= 0 {
			err = fmt.Errorf("must be positive")
		}
		c.BodyIdle = d
		return err
	}},
	{"ANTENNE_SHUTDOWN_GRACE", "shutdown-grace", "30s", "how long a stop waits for requests in flight (uploads included)", func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err == nil && d < 0 {
			err = fmt.Errorf("must not be negative")
		}
		c.ShutdownGrace = d
		return err
	}},
	{"ANTENNE_MAX_DURATION", "max-duration", "4h", "longest recording accepted (uploads and imports), e.g. 4h or 90m", func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err == nil && d <= 0 {
			err = fmt.Errorf("must be positive")
		}
		c.MaxDuration = d
		return err
	}},
	{"ANTENNE_FETCH_ALLOW_PRIVATE", "fetch-allow-private", "false", "let antenne fetch URLs (import, fediverse) at private, loopback and link-local addresses", setBool(func(c *config) *bool { return &c.FetchAllowPrivate })},
	{"ANTENNE_WEBSUB_HUBS", "websub-hubs", "", "WebSub hub URLs, comma-separated: the feeds name them and each is pinged after every change of a feed", func(c *config, v string) error {
		c.WebSubHubs = websub.ParseHubs(v)
		for _, h := range c.WebSubHubs {
			if u, err := url.Parse(h); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return fmt.Errorf("want absolute http(s) URLs separated by commas, got %q", h)
			}
		}
		return nil
	}},
	{"ANTENNE_SESSION_KEY", "session-key", "", "key signing the studio's sessions, 32 bytes or more (64+ hex digits or any long secret; or ANTENNE_SESSION_KEY_FILE: a file holding it); empty: a key kept in the store", func(c *config, v string) error {
		if v == "" {
			return nil
		}
		if len(v) < 32 {
			return fmt.Errorf("too short: use 32 bytes or more, e.g. the output of openssl rand -hex 32")
		}
		c.SessionKey = []byte(v)
		return nil
	}},
}

// loadConfig reads the configuration from the environment and args, parsed
// with fs (which may hold the command's own flags; its
// positional arguments are left in fs.Args()). Flags override environment
// variables. An invalid value gives a usage error naming the variable (or
// the flag, when the flag set it).
func loadConfig(fs *flag.FlagSet, getenv func(string) string, args []string) (*config, error) {
	values := make([]*string, len(settings))
	fromEnv := make([]string, len(settings))
	for i, s := range settings {
		v, err := envValue(getenv, s)
		if err != nil {
			return nil, err
		}
		fromEnv[i] = v
		if s.secret() {
			v = "" // never shown by the flag's default
		}
		values[i] = fs.String(s.flag, v, fmt.Sprintf("%s (%s)", s.help, s.env))
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	cfg := &config{}
	for i, s := range settings {
		v := *values[i]
		if s.secret() && !set[s.flag] {
			v = fromEnv[i]
		}
		if err := s.apply(cfg, strings.TrimSpace(v)); err != nil {
			name := s.env
			if set[s.flag] {
				name = "--" + s.flag
			}
			return nil, usageErrorf("%s: %v", name, err)
		}
	}
	if cfg.S3.Endpoint != "" && (cfg.S3.AccessKey == "" || cfg.S3.SecretKey == "") {
		return nil, usageErrorf("ANTENNE_S3_ACCESS_KEY and ANTENNE_S3_SECRET_KEY must be set when ANTENNE_S3_ENDPOINT is")
	}
	return cfg, nil
}

// envValue is the setting's value from the environment: its variable, or
// for a secret the content of the file its _FILE variable names (one of
// the two), or its default.
func envValue(getenv func(string) string, s setting) (string, error) {
	v, set := lookup(getenv, s.env)
	if !s.secret() {
		if set {
			return v, nil
		}
		return s.def, nil
	}
	path, fromFile := lookup(getenv, s.env+"_FILE")
	switch {
	case set && fromFile:
		return "", usageErrorf("%s and %s_FILE are both set: keep one", s.env, s.env)
	case set:
		return v, nil
	case !fromFile:
		return s.def, nil
	}
	f, err := os.Open(strings.TrimSpace(path))
	if err != nil {
		return "", usageErrorf("%s_FILE: %v", s.env, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", usageErrorf("%s_FILE: %v", s.env, err)
	}
	if len(b) > maxSecretFile {
		return "", usageErrorf("%s_FILE: %s is larger than %d bytes, not a secret", s.env, path, maxSecretFile)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// lookup returns the environment variable's value and whether it is set
// to something other than blanks.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, strings.TrimSpace(v) != ""
}

func setString(field func(*config) *string) func(*config, string) error {
	return func(c *config, v string) error {
		*field(c) = v
		return nil
	}
}

func setBool(field func(*config) *bool) func(*config, string) error {
	return func(c *config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		*field(c) = b
		return nil
	}
}

func parseHTTPURL(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("want an absolute http:// or https:// URL such as https://radio.picasoft.net, got %q", v)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("want a URL without query or fragment, got %q", v)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
}

// parseSize reads a byte count such as 1048576, 500MB or 2GiB.
func parseSize(v string) (int64, error) {
	num, factor := v, int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(v, u.suffix) {
			num, factor = strings.TrimSpace(strings.TrimSuffix(v, u.suffix)), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/factor {
		return 0, fmt.Errorf("want a positive size such as 2GiB, 500MB or 1048576, got %q", v)
	}
	return n * factor, nil
}

// settingsHelp lists the configuration variables for `antenne help serve`.
func settingsHelp() string {
	var b strings.Builder
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "unset"
		}
		fmt.Fprintf(&b, "  %-26s --%-18s %s (default %s)\n", s.env, s.flag, s.help, def)
		if s.secret() {
			fmt.Fprintf(&b, "  %-26s %-20s the same, read from a file (a flag shows the secret to ps: prefer this)\n", s.env+"_FILE", "")
		}
	}
	return b.String()
}
