// Command ociimage writes antenne's container image as an OCI archive (an
// OCI image layout in a tar file, what `docker load` and `podman load`
// take) from a root file system tarball (Debian, made by mmdebstrap with
// ffmpeg) and the antenne binary, with no container daemon or registry.
// `make image` runs it; see docs/production.md.
//
//	go run ./deploy/ociimage -base base.tar -binary antenne -version v1.2.0 \
//	    -revision 1ecb068... -created 2026-12-08T02:42:48Z -o antenne.oci.tar
//
// The base tarball becomes the first layer, without its device nodes
// (runtimes mount /dev; rootless ones cannot make them); its gzipped form
// is cached beside it (base.tar.layer.gz and .json), so that a new binary
// costs seconds. The binary is the second layer, /usr/local/bin/antenne.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"strings"
	"time"
)

// The image's settings, documented in docs/production.md.
const (
	imageName  = "localhost/antenne"
	binaryPath = "usr/local/bin/antenne"
	user       = "10001:10001" // antenne, made in the base by make image
	dataDir    = "/data"
	port       = "8080/tcp"
)

// imageEnv is the environment of the image. TestImageRootfs checks that
// every ANTENNE_ variable here is documented.
var imageEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"ANTENNE_ADDR=:8080",
	"ANTENNE_DATA_DIR=" + dataDir,
	"TZ=Europe/Paris",
}

func main() {
	var o options
	flag.StringVar(&o.base, "base", "", "root file system tarball (mmdebstrap's)")
	flag.StringVar(&o.binary, "binary", "", "the antenne binary, static")
	flag.StringVar(&o.version, "version", "devel", "version label")
	flag.StringVar(&o.revision, "revision", "", "VCS revision label")
	flag.StringVar(&o.created, "created", "", "creation time (RFC 3339), the commit's for reproducible images")
	flag.StringVar(&o.out, "o", "antenne.oci.tar", "the OCI archive to write")
	flag.Parse()
	if err := o.write(); err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

type options struct {
	base, binary, version, revision, created, out string
}

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// layer is a gzipped layer: its blob's descriptor and the digest of its
// uncompressed tar (the config's diff_id).
type layer struct {
	Blob   descriptor `json:"blob"`
	DiffID string     `json:"diff_id"`
	path   string     // the gzipped file
}

const (
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaIndex    = "application/vnd.oci.image.index.v1+json"
)

func (o *options) write() error {
	if o.base == "" || o.binary == "" {
		return errors.New("-base and -binary are required")
	}
	created := time.Now().UTC()
	if o.created != "" {
		t, err := time.Parse(time.RFC3339, o.created)
		if err != nil {
			return fmt.Errorf("-created: %w", err)
		}
		created = t.UTC()
	}
	base, err := baseLayer(o.base)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(path.Dir(o.out), ".ociimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	app, err := binaryLayer(o.binary, dir+"/app.tar.gz", created)
	if err != nil {
		return err
	}
	labels := map[string]string{
		"org.opencontainers.image.title":         "antenne",
		"org.opencontainers.image.description":   "Publishes a radio show as a podcast: feed, media, studio, fediverse",
		"org.opencontainers.image.version":       o.version,
		"org.opencontainers.image.revision":      o.revision,
		"org.opencontainers.image.source":        "https://github.com/picasoft/antenne",
		"org.opencontainers.image.url":           "https://github.com/picasoft/antenne",
		"org.opencontainers.image.documentation": "https://github.com/picasoft/antenne/blob/main/docs/production.md",
		"org.opencontainers.image.licenses":      "AGPL-3.0-or-later",
		"org.opencontainers.image.vendor":        "Picasoft",
		"org.opencontainers.image.created":       created.Format(time.RFC3339),
	}
	config, err := json.Marshal(map[string]any{
		"created":      created.Format(time.RFC3339),
		"architecture": "amd64",
		"os":           "linux",
		"config": map[string]any{
			"User":         user,
			"Env":          imageEnv,
			"Entrypoint":   []string{"/" + binaryPath},
			"Cmd":          []string{"serve"},
			"WorkingDir":   dataDir,
			"ExposedPorts": map[string]any{port: map[string]any{}},
			"Volumes":      map[string]any{dataDir: map[string]any{}},
			"Labels":       labels,
			"StopSignal":   "SIGTERM",
			// Docker reads it (Podman only from its own format): the
			// image has no curl, antenne checks /readyz itself.
			"Healthcheck": map[string]any{
				"Test":        []string{"CMD", "/" + binaryPath, "healthcheck"},
				"Interval":    int64(30 * time.Second),
				"Timeout":     int64(10 * time.Second),
				"StartPeriod": int64(20 * time.Second),
				"Retries":     3,
			},
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{base.DiffID, app.DiffID}},
		"history": []map[string]any{
			{"created": created.Format(time.RFC3339), "created_by": "mmdebstrap: Debian with ffmpeg, ca-certificates, tzdata; the user antenne (10001); /data (make image)"},
			{"created": created.Format(time.RFC3339), "created_by": "the antenne binary at /" + binaryPath},
		},
	})
	if err != nil {
		return err
	}
	configDesc := blobOf(mediaConfig, config)
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     mediaManifest,
		"config":        configDesc,
		"layers":        []descriptor{base.Blob, app.Blob},
		"annotations":   labels,
	})
	if err != nil {
		return err
	}
	manifestDesc := blobOf(mediaManifest, manifest)
	manifestDesc.Annotations = map[string]string{
		"org.opencontainers.image.ref.name": imageName + ":latest",
		"io.containerd.image.name":          imageName + ":latest",
	}
	index, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mediaIndex, "manifests": []descriptor{manifestDesc}})
	if err != nil {
		return err
	}

	tmp := o.out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	tw := tar.NewWriter(f)
	files := []struct {
		name string
		data []byte
		path string
		size int64
	}{
		{name: "oci-layout", data: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{name: "index.json", data: index},
		{name: blobName(manifestDesc), data: manifest},
		{name: blobName(configDesc), data: config},
		{name: blobName(base.Blob), path: base.path, size: base.Blob.Size},
		{name: blobName(app.Blob), path: app.path, size: app.Blob.Size},
	}
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: created}); err != nil {
			return err
		}
	}
	for _, file := range files {
		size := int64(len(file.data))
		if file.path != "" {
			size = file.size
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: file.name, Mode: 0o644, Size: size, ModTime: created}); err != nil {
			return err
		}
		if file.path == "" {
			_, err = tw.Write(file.data)
		} else {
			err = copyFile(tw, file.path)
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", file.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, o.out); err != nil {
		return err
	}
	st, err := os.Stat(o.out)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %s, %.1f MB (Debian layer %.1f MB, antenne %.1f MB, gzipped)\n", o.out, configDesc.Digest[:19], mb(st.Size()), mb(base.Blob.Size), mb(app.Blob.Size))
	return nil
}

func mb(n int64) float64 { return float64(n) / 1e6 }

func blobOf(mediaType string, data []byte) descriptor {
	sum := sha256.Sum256(data)
	return descriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(data))}
}

func blobName(d descriptor) string { return "blobs/sha256/" + strings.TrimPrefix(d.Digest, "sha256:") }

func copyFile(w io.Writer, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// baseLayer is the gzipped layer of the root file system tarball at
// name, made once and cached beside it (name.layer.gz, name.layer.json).
func baseLayer(name string) (layer, error) {
	gz, meta := name+".layer.gz", name+".layer.json"
	var l layer
	if b, err := os.ReadFile(meta); err == nil && json.Unmarshal(b, &l) == nil {
		if st, err := os.Stat(gz); err == nil && st.Size() == l.Blob.Size {
			l.path = gz
			return l, nil
		}
	}
	in, err := os.Open(name)
	if err != nil {
		return l, err
	}
	defer in.Close()
	l, err = writeLayer(gz, func(tw *tar.Writer) error { return copyRootfs(tw, tar.NewReader(in)) })
	if err != nil {
		return l, fmt.Errorf("layer of %s: %w", name, err)
	}
	b, _ := json.Marshal(l)
	if err := os.WriteFile(meta, b, 0o644); err != nil {
		return l, err
	}
	return l, nil
}

// copyRootfs copies the entries of a root file system tarball, named
// without "./", leaving out the device nodes and what is under /dev,
// /proc and /sys: the runtime provides them.
func copyRootfs(tw *tar.Writer, tr *tar.Reader) error {
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(h.Name, "./")
		if name == "" || name == "." {
			continue
		}
		if h.Typeflag == tar.TypeChar || h.Typeflag == tar.TypeBlock || h.Typeflag == tar.TypeFifo {
			continue
		}
		if top, rest, _ := strings.Cut(strings.TrimSuffix(name, "/"), "/"); rest != "" && (top == "dev" || top == "proc" || top == "sys") {
			continue
		}
		h.Name = name
		if h.Typeflag == tar.TypeLink {
			h.Linkname = strings.TrimPrefix(h.Linkname, "./")
		}
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
}

// binaryLayer is the layer holding the antenne binary.
func binaryLayer(binary, out string, created time.Time) (layer, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return layer{}, err
	}
	return writeLayer(out, func(tw *tar.Writer) error {
		for _, d := range []string{"usr/", "usr/local/", "usr/local/bin/"} {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: created, Format: tar.FormatPAX}); err != nil {
				return err
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: binaryPath, Mode: 0o755, Size: int64(len(data)), ModTime: created, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := io.Copy(tw, bytes.NewReader(data))
		return err
	})
}

// writeLayer writes the tar that fill makes, gzipped, to out, with its
// digests.
func writeLayer(out string, fill func(*tar.Writer) error) (layer, error) {
	f, err := os.Create(out + ".tmp")
	if err != nil {
		return layer{}, err
	}
	defer os.Remove(out + ".tmp")
	blobSum, diffSum := sha256.New(), sha256.New()
	counted := &countingWriter{w: io.MultiWriter(f, blobSum)}
	zw, _ := gzip.NewWriterLevel(counted, gzip.DefaultCompression)
	tw := tar.NewWriter(io.MultiWriter(zw, diffSum))
	if err := fill(tw); err != nil {
		f.Close()
		return layer{}, err
	}
	if err := tw.Close(); err != nil {
		return layer{}, err
	}
	if err := zw.Close(); err != nil {
		return layer{}, err
	}
	if err := f.Close(); err != nil {
		return layer{}, err
	}
	if err := os.Rename(out+".tmp", out); err != nil {
		return layer{}, err
	}
	return layer{
		Blob:   descriptor{MediaType: mediaLayer, Digest: digest(blobSum), Size: counted.n},
		DiffID: digest(diffSum),
		path:   out,
	}, nil
}

func digest(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
