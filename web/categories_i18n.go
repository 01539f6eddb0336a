package web

import "github.com/picasoft/antenne/episodes"

// categoryFR names Apple Podcasts' categories and subcategories in French
// for the studio's select; the feed keeps Apple's English names
// (episodes.Category). A name missing here shows in English.
var categoryFR = map[string]string{
	"Arts": "Arts", "Books": "Livres", "Design": "Design", "Fashion & Beauty": "Mode et beauté", "Food": "Cuisine",
	"Performing Arts": "Arts du spectacle", "Visual Arts": "Arts visuels",
	"Business": "Économie et entreprise", "Careers": "Carrières", "Entrepreneurship": "Entrepreneuriat", "Investing": "Investissement",
	"Management": "Management", "Marketing": "Marketing", "Non-Profit": "Associations et économie solidaire",
	"Comedy": "Humour", "Comedy Interviews": "Entretiens humoristiques", "Improv": "Improvisation", "Stand-Up": "Stand-up",
	"Education": "Éducation", "Courses": "Cours", "How To": "Tutoriels", "Language Learning": "Apprentissage des langues",
	"Self-Improvement": "Développement personnel",
	"Fiction":          "Fiction", "Comedy Fiction": "Fiction humoristique", "Drama": "Drame", "Science Fiction": "Science-fiction",
	"Government": "Institutions publiques", "History": "Histoire",
	"Health & Fitness": "Santé et forme", "Alternative Health": "Médecines douces", "Fitness": "Forme physique", "Medicine": "Médecine",
	"Mental Health": "Santé mentale", "Nutrition": "Nutrition", "Sexuality": "Sexualité",
	"Kids & Family": "Enfants et famille", "Education for Kids": "Éducation des enfants", "Parenting": "Parentalité",
	"Pets & Animals": "Animaux", "Stories for Kids": "Histoires pour enfants",
	"Leisure": "Loisirs", "Animation & Manga": "Animation et manga", "Automotive": "Automobile", "Aviation": "Aviation",
	"Crafts": "Artisanat et bricolage", "Games": "Jeux", "Hobbies": "Passe-temps", "Home & Garden": "Maison et jardin", "Video Games": "Jeux vidéo",
	"Music": "Musique", "Music Commentary": "Chroniques musicales", "Music History": "Histoire de la musique", "Music Interviews": "Entretiens musicaux",
	"News": "Actualités", "Business News": "Actualité économique", "Daily News": "Actualité du jour", "Entertainment News": "Actualité du divertissement",
	"News Commentary": "Commentaire de l'actualité", "Politics": "Politique", "Sports News": "Actualité sportive", "Tech News": "Actualité technologique",
	"Religion & Spirituality": "Religion et spiritualité", "Buddhism": "Bouddhisme", "Christianity": "Christianisme", "Hinduism": "Hindouisme",
	"Islam": "Islam", "Judaism": "Judaïsme", "Religion": "Religion", "Spirituality": "Spiritualité",
	"Science": "Sciences", "Astronomy": "Astronomie", "Chemistry": "Chimie", "Earth Sciences": "Sciences de la Terre", "Life Sciences": "Sciences de la vie",
	"Mathematics": "Mathématiques", "Natural Sciences": "Sciences naturelles", "Nature": "Nature", "Physics": "Physique", "Social Sciences": "Sciences sociales",
	"Society & Culture": "Société et culture", "Documentary": "Documentaire", "Personal Journals": "Journaux personnels", "Philosophy": "Philosophie",
	"Places & Travel": "Lieux et voyages", "Relationships": "Relations",
	"Sports": "Sport", "Baseball": "Baseball", "Basketball": "Basket-ball", "Cricket": "Cricket", "Fantasy Sports": "Sports fictifs (fantasy)",
	"Football": "Football américain", "Golf": "Golf", "Hockey": "Hockey", "Rugby": "Rugby", "Running": "Course à pied", "Soccer": "Football",
	"Swimming": "Natation", "Tennis": "Tennis", "Volleyball": "Volley-ball", "Wilderness": "Nature et plein air", "Wrestling": "Lutte",
	"Technology": "Technologie", "True Crime": "Faits divers",
	"TV & Film": "Télévision et cinéma", "After Shows": "Après-séances", "Film History": "Histoire du cinéma", "Film Interviews": "Entretiens cinéma",
	"Film Reviews": "Critiques de films", "TV Reviews": "Critiques de séries",
}

// categoryName is a category's name in lang: French from categoryFR,
// Apple's English name otherwise.
func categoryName(lang, name string) string {
	if lang == langEN {
		return name
	}
	if fr, ok := categoryFR[name]; ok {
		return fr
	}
	return name
}

// categoryGroup is a category and its subcategories, for an <optgroup>.
type categoryGroup struct {
	Label   string
	Options []categoryOption
}

// categoryOption is an <option>: Value is Apple's "Name" or "Name/Sub".
type categoryOption struct {
	Value, Label string
}

// categoryValue is how the form writes a category: "Name" or "Name/Sub".
func categoryValue(c episodes.Category) string {
	if c.Sub == "" {
		return c.Name
	}
	return c.Name + "/" + c.Sub
}

// categoryGroups are Apple's categories as the studio's select shows
// them in lang.
func categoryGroups(lang string) []categoryGroup {
	var out []categoryGroup
	for _, c := range episodes.AppleCategories() {
		if c.Sub == "" {
			label := categoryName(lang, c.Name)
			out = append(out, categoryGroup{Label: label, Options: []categoryOption{{Value: c.Name, Label: label}}})
			continue
		}
		g := &out[len(out)-1]
		g.Options = append(g.Options, categoryOption{Value: categoryValue(c), Label: g.Label + " › " + categoryName(lang, c.Sub)})
	}
	return out
}
