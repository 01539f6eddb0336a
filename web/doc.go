// Package web serves antenne over HTTP with gin: the public pages, the feed
// and media, the hosts' studio and the JSON API.
package web
