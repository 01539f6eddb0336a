package episodes

import "testing"

func TestDirectoryReadiness(t *testing.T) {
	ready := Show{
		Title: "La Voix est Libre", Description: "L'émission de Picasoft.", Language: "fr", Author: "Picasoft",
		Owner:      Owner{Email: "contact@picasoft.net"},
		Categories: []Category{{Name: "Technology"}},
		Artwork:    &Image{Type: "image/png", Width: 1400, Height: 1400},
	}
	if !ready.ReadyForDirectories() {
		t.Fatalf("a complete show is not ready: %+v", ready.DirectoryReadiness())
	}
	for _, tc := range []struct {
		missing string
		edit    func(*Show)
	}{
		{ReadyArtwork, func(s *Show) { s.Artwork = nil }},
		{ReadyArtwork, func(s *Show) { s.Artwork = &Image{Type: "image/png", Width: 600, Height: 600} }},
		{ReadyCategory, func(s *Show) { s.Categories = nil }},
		{ReadyOwnerEmail, func(s *Show) { s.Owner.Email = "" }},
		{ReadyAuthor, func(s *Show) { s.Author = " " }},
		{ReadyDescription, func(s *Show) { s.Description = "la voix est libre" }},
		{ReadyDescription, func(s *Show) { s.Description = "" }},
		{ReadyLanguage, func(s *Show) { s.Language = "" }},
	} {
		sh := ready
		tc.edit(&sh)
		var missing []string
		for _, it := range sh.DirectoryReadiness() {
			if !it.OK {
				missing = append(missing, it.Key)
			}
		}
		if len(missing) != 1 || missing[0] != tc.missing || sh.ReadyForDirectories() {
			t.Errorf("want only %s missing, got %v", tc.missing, missing)
		}
	}
	cats := AppleCategories()
	if len(cats) < 100 || cats[0] != (Category{Name: "Arts"}) || cats[1] != (Category{Name: "Arts", Sub: "Books"}) {
		t.Errorf("Apple's categories: got %d, starting %v", len(cats), cats[:2])
	}
}
