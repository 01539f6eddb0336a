package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/picasoft/antenne/episodes"
	"github.com/picasoft/antenne/web"
)

// remotePublish is an upload to a running antenne through its API.
type remotePublish struct {
	server, token, show, file string
	// noWait returns once the server has the recording (202), without
	// waiting for its processing.
	noWait bool
	// fields are the upload's form fields; empty ones are not sent.
	fields map[string]string
}

// apiError is the error body of the API.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// publishRemote sends the file to POST /api/v1/shows/<show>/episodes as a
// streamed multipart body, with a progress bar, waits for the server's
// processing (a second bar) unless noWait, and prints the episode's
// public URL, or its studio URL when it is not published (its API URL
// with noWait when it is still processing).
func publishRemote(ctx context.Context, e *env, r remotePublish) error {
	if r.token == "" {
		return usageErrorf("publish --server: a token is needed: --token or ANTENNE_TOKEN (antenne hosts token create LOGIN makes one)")
	}
	base, err := url.Parse(strings.TrimRight(r.server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return usageErrorf("--server: %q is not an http(s) URL", r.server)
	}
	client := &http.Client{Timeout: 0}
	if r.show == "" {
		if r.show, err = onlyShow(ctx, client, base.String(), r.token); err != nil {
			return err
		}
	}
	f, err := os.Open(r.file)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if st.IsDir() {
		return fmt.Errorf("publish: %s is a folder, not a recording", r.file)
	}

	bar := e.progressBar()
	defer bar.finish()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			for _, k := range []string{"title", "theme", "aired", "at", "draft"} {
				if v := r.fields[k]; v != "" && v != "false" {
					if err := mw.WriteField(k, v); err != nil {
						return err
					}
				}
			}
			part, err := mw.CreateFormFile("file", filepath.Base(r.file))
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, &progressReader{r: f, size: st.Size(), stage: "uploading", bar: bar}); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	endpoint := base.String() + "/api/v1/shows/" + url.PathEscape(r.show) + "/episodes"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, pr)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Accept-Language", "en")
	start := time.Now()
	resp, err := client.Do(req)
	bar.finish()
	if err != nil {
		return fmt.Errorf("publish to %s: %w", base.Host, err)
	}
	defer resp.Body.Close()
	var ep remoteEpisode
	if err := decodeAPI(resp, &ep); err != nil {
		return fmt.Errorf("publish %s: %w", r.file, err)
	}
	if resp.StatusCode == http.StatusAccepted {
		loc, err := resp.Location()
		if err != nil {
			return fmt.Errorf("publish %s: the server accepted the recording but gave no Location", r.file)
		}
		if r.noWait {
			fmt.Fprintln(e.stderr, e.t("cli.publish.received", ep.Title))
			fmt.Fprintln(e.stdout, loc.String())
			return nil
		}
		if ep, err = waitProcessed(ctx, e, client, loc.String(), r.token); err != nil {
			return fmt.Errorf("publish %s: %w", r.file, err)
		}
	}
	status := ep.Status
	if key := "cli.status." + ep.Status; web.HasMessage(key) {
		status = e.t(key)
	}
	fmt.Fprintln(e.stderr, e.t("cli.publish.done", status, ep.Title, episodes.FormatDuration(time.Duration(ep.DurationSeconds*float64(time.Second))), time.Since(start).Round(time.Second)))
	fmt.Fprintln(e.stdout, remoteEpisodeURL(base, r.show, ep))
	return nil
}

// remoteEpisodeURL is where the host goes next: the public page of a
// published episode; the studio's page of a draft or a scheduled one,
// whose public URL answers 404 until it is published.
func remoteEpisodeURL(base *url.URL, show string, ep remoteEpisode) string {
	if ep.Status == string(episodes.Published) && ep.URL != "" {
		return ep.URL
	}
	return base.String() + "/studio/" + url.PathEscape(show) + "/" + url.PathEscape(ep.ID)
}

// remoteEpisode is what publish reads of the API's episode.
type remoteEpisode struct {
	ID              string  `json:"id"`
	Title           string  `json:"title"`
	Status          string  `json:"status"`
	URL             string  `json:"url"`
	DurationSeconds float64 `json:"duration_seconds"`
	Processing      struct {
		State    string `json:"state"`
		Progress int    `json:"progress"`
		Error    *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"processing"`
}

// processingPoll is how often publish asks the server how far its
// processing is.
const processingPoll = time.Second

// waitProcessed polls the episode at endpoint, with a progress bar, until
// its processing is done or failed.
func waitProcessed(ctx context.Context, e *env, client *http.Client, endpoint, token string) (remoteEpisode, error) {
	bar := e.progressBar()
	defer bar.finish()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
		if err != nil {
			return remoteEpisode{}, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept-Language", "en")
		resp, err := client.Do(req)
		if err != nil {
			return remoteEpisode{}, fmt.Errorf("follow the processing: %w", err)
		}
		var ep remoteEpisode
		err = decodeAPI(resp, &ep)
		resp.Body.Close()
		if err != nil {
			return remoteEpisode{}, fmt.Errorf("follow the processing: %w", err)
		}
		switch ep.Processing.State {
		case "done":
			bar.update("processing", 1)
			return ep, nil
		case "failed":
			msg := "unknown error"
			if ep.Processing.Error != nil {
				msg = ep.Processing.Error.Message
			}
			return ep, fmt.Errorf("the server could not process the recording (%s); retry with POST %s/retry or delete the episode", msg, endpoint)
		}
		bar.update("processing", float64(ep.Processing.Progress)/100)
		select {
		case <-ctx.Done():
			return ep, ctx.Err()
		case <-time.After(processingPoll):
		}
	}
}

// decodeAPI reads a JSON answer of the API into v, or its error.
func decodeAPI(resp *http.Response, v any) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var ae apiError
		if json.Unmarshal(body, &ae) == nil && ae.Error.Message != "" {
			return fmt.Errorf("%s (%s, HTTP %d)", ae.Error.Message, ae.Error.Code, resp.StatusCode)
		}
		return fmt.Errorf("the server answered HTTP %d", resp.StatusCode)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("read the server's answer: %w", err)
	}
	return nil
}

// onlyShow is the one show the token may publish to.
func onlyShow(ctx context.Context, client *http.Client, base, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/shows", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Language", "en")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("list the shows: %w", err)
	}
	defer resp.Body.Close()
	var list struct {
		Shows []struct {
			Slug string `json:"slug"`
		} `json:"shows"`
	}
	if err := decodeAPI(resp, &list); err != nil {
		return "", fmt.Errorf("list the shows: %w", err)
	}
	switch len(list.Shows) {
	case 0:
		return "", errors.New("this token may publish to no show")
	case 1:
		return list.Shows[0].Slug, nil
	}
	var slugs []string
	for _, s := range list.Shows {
		slugs = append(slugs, s.Slug)
	}
	return "", usageErrorf("there are several shows (%s): say which with --show", strings.Join(slugs, ", "))
}
