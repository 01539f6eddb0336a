package episodes

import "testing"

func TestSlugify(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"La Voix est Libre", "la-voix-est-libre"},
		{"Été 2021 : l'œuvre libre !", "ete-2021-l-oeuvre-libre"},
		{"  --Hello__World--  ", "hello-world"},
		{"Logiciels libres & vie privée (partie 1/2)", "logiciels-libres-vie-privee-partie-1-2"},
		{"Ça déménage 🚚", "ca-demenage"},
		{"日本語", ""},
		{"", ""},
		{"ﬁn", "fin"}, // NFKD splits the ligature
	}
	for _, tt := range tests {
		if got := Slugify(tt.in); got != tt.want {
			t.Errorf("Slugify(%q): got %q, want %q", tt.in, got, tt.want)
		}
		if tt.want != "" && !validSlug(tt.want) {
			t.Errorf("validSlug(%q): got false, want true", tt.want)
		}
	}
	long := Slugify("a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j")
	if len(long) > maxSlugLen || !validSlug(long) {
		t.Errorf("long slug %q: got length %d, want at most %d and valid", long, len(long), maxSlugLen)
	}
	for _, bad := range []string{"", "-a", "a-", "a--b", "A", "é", "a b", "../x"} {
		if validSlug(bad) {
			t.Errorf("validSlug(%q): got true, want false", bad)
		}
	}
}
