package episodes

import (
	"slices"
	"strings"
)

// DirectoryItem is one thing Apple Podcasts and Spotify need of a show
// before they list it, and whether the show has it. Key names it for the
// catalogues of the studio and the CLI ("ready.<Key>" says what,
// "ready.<Key>.why" why the directories need it).
type DirectoryItem struct {
	Key string
	OK  bool
}

// Directory item keys.
const (
	ReadyArtwork     = "artwork"     // square JPEG or PNG, 1400 to 3000 pixels
	ReadyCategory    = "category"    // at least one of Apple's categories
	ReadyOwnerEmail  = "owner_email" // itunes:owner's e-mail
	ReadyAuthor      = "author"      // itunes:author
	ReadyDescription = "description" // a description other than the title
	ReadyLanguage    = "language"    // the feed's language
)

// DirectoryReadiness lists what Apple Podcasts and Spotify check of a
// show's feed when it is submitted, in the order a host would fix them,
// each with whether the show has it
// (https://podcasters.apple.com/support/823-podcast-requirements,
// https://support.spotify.com/us/podcasters/article/podcast-requirements/).
func (sh *Show) DirectoryReadiness() []DirectoryItem {
	desc := strings.TrimSpace(sh.Description)
	return []DirectoryItem{
		{ReadyArtwork, sh.Artwork != nil && checkShowArtwork(sh.Artwork) == nil &&
			slices.Contains([]string{"image/jpeg", "image/png"}, sh.Artwork.Type)},
		{ReadyCategory, len(sh.Categories) > 0},
		{ReadyOwnerEmail, strings.TrimSpace(sh.Owner.Email) != ""},
		{ReadyAuthor, strings.TrimSpace(sh.Author) != ""},
		{ReadyDescription, desc != "" && !strings.EqualFold(desc, strings.TrimSpace(sh.Title))},
		{ReadyLanguage, strings.TrimSpace(sh.Language) != ""},
	}
}

// ReadyForDirectories reports whether every DirectoryReadiness item is
// there.
func (sh *Show) ReadyForDirectories() bool {
	for _, it := range sh.DirectoryReadiness() {
		if !it.OK {
			return false
		}
	}
	return true
}

// AppleCategories is Apple Podcasts' list: each category, then its
// subcategories, in alphabetical order of the English names.
func AppleCategories() []Category {
	names := make([]string, 0, len(appleCategories))
	for n := range appleCategories {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []Category
	for _, n := range names {
		out = append(out, Category{Name: n})
		for _, sub := range appleCategories[n] {
			out = append(out, Category{Name: n, Sub: sub})
		}
	}
	return out
}
