package episodes

import (
	"strings"

	"github.com/google/uuid"
)

// podcastNamespace is the UUIDv5 namespace of podcast:guid.
var podcastNamespace = uuid.MustParse("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

// PodcastGUID computes the podcast:guid of a feed URL as the Podcast Index
// specifies: a UUIDv5 in namespace ead4c236-bf58-58c6-a2c6-a6b28d128cb6
// over the URL without its scheme and without trailing slashes.
// https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/tags/guid.md
func PodcastGUID(feedURL string) string {
	u := feedURL
	if _, rest, ok := strings.Cut(u, "://"); ok {
		u = rest
	}
	u = strings.TrimRight(u, "/")
	return uuid.NewSHA1(podcastNamespace, []byte(u)).String()
}
