package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/text/language"

	"github.com/picasoft/antenne/episodes"
)

// Languages of the pages. French comes first: it is the language of the
// hosts and of most listeners.
const (
	langFR = "fr"
	langEN = "en"
)

// langCookie remembers the language a visitor chose with the switch.
const langCookie = "lang"

// langKey is where langOf keeps the request's language in the gin
// context.
const langKey = "antenne.lang"

var langMatcher = language.NewMatcher([]language.Tag{language.French, language.English})

// chooseLang picks the language of a request: ?lang=fr|en first (the
// switch), then the lang cookie, then Accept-Language; French by default.
func chooseLang(r *http.Request) string {
	if l := knownLang(r.URL.Query().Get("lang")); l != "" {
		return l
	}
	if ck, err := r.Cookie(langCookie); err == nil {
		if l := knownLang(ck.Value); l != "" {
			return l
		}
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, i, conf := langMatcher.Match(tags...)
			if conf != language.No && i == 1 {
				return langEN
			}
		}
	}
	return langFR
}

func knownLang(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case langFR:
		return langFR
	case langEN:
		return langEN
	}
	return ""
}

// langOf is the language of the request (see chooseLang), decided on
// first use and kept in the gin context: only pages need it, so feeds and
// media never pay for parsing Accept-Language. A choice made with ?lang=
// is kept in a cookie for a year, so that the next pages follow it.
func langOf(c *gin.Context) string {
	if v, ok := c.Get(langKey); ok {
		if l, ok := v.(string); ok {
			return l
		}
	}
	lang := chooseLang(c.Request)
	if q := knownLang(c.Query("lang")); q != "" {
		http.SetCookie(c.Writer, &http.Cookie{
			Name:     langCookie,
			Value:    q,
			Path:     "/",
			MaxAge:   365 * 24 * 3600,
			HttpOnly: true,
			SameSite: http.SameSiteLaxMode,
			Secure:   c.Request.TLS != nil || c.GetBool(httpsSiteKey),
		})
	}
	c.Set(langKey, lang)
	c.Header("Content-Language", lang)
	return lang
}

// httpsSiteKey is set in the gin context when the site's base URL is
// https: cookies are Secure even when a proxy terminates TLS.
const httpsSiteKey = "antenne.https"

// messages is the catalogue: a key, then the French and the English text.
// Texts with verbs (%s, %d) are fmt formats. Add keys here, French first;
// a missing English text falls back to French, a missing key shows as
// itself so that the mistake is visible.
var messages = map[string][2]string{
	// Layout.
	"site.name":      {"antenne", "antenne"},
	"skip":           {"Aller au contenu", "Skip to content"},
	"lang.switch":    {"English", "Français"},
	"lang.label":     {"Langue", "Language"},
	"footer.powered": {"Propulsé par antenne, logiciel libre (AGPL).", "Powered by antenne, free software (AGPL)."},
	"footer.listens": {"Comment nous comptons les écoutes", "How we count listens"},
	"footer.studio":  {"Espace des animateurs", "Hosts' studio"},
	"about.listens":  {"Comment nous comptons", "How we count"},
	"nav.home":       {"Accueil", "Home"},

	// Errors (see errors.go).
	"error.title":                {"Erreur", "Error"},
	"error.back":                 {"Retour à l'accueil", "Back to the home page"},
	"error.notfound":             {"Cette page n'existe pas, ou plus.", "This page does not exist, or no longer does."},
	"error.conflict":             {"Quelqu'un d'autre a modifié cet élément entre-temps. Rechargez la page et recommencez.", "Someone else changed this meanwhile. Reload the page and try again."},
	"error.invalid":              {"Valeur refusée pour « %s » : %s", "Value refused for “%s”: %s"},
	"error.badrequest":           {"Requête invalide : %s", "Bad request: %s"},
	"error.duplicate":            {"Cet enregistrement a déjà été envoyé : c'est l'épisode « %s ».", "This recording was already uploaded: it is the episode “%s”."},
	"error.unsupported":          {"Ce fichier n'est pas un enregistrement audio reconnu (il ressemble à %s).", "This file is not a recognised audio recording (it looks like %s)."},
	"error.unsupported.why":      {"Ce fichier n'est pas un enregistrement audio reconnu (il ressemble à %s) : %s.", "This file is not a recognised audio recording (it looks like %s): %s."},
	"error.unsupported.unknown":  {"Ce fichier n'est pas un enregistrement audio reconnu : il ne ressemble à rien qu'antenne connaisse.", "This file is not a recognised audio recording: it looks like nothing antenne knows."},
	"damaged.cut":                {"le fichier s'arrête après %d octets, l'envoi ou la copie a sans doute été interrompu", "the file is cut after %d bytes, its upload or copy was probably interrupted"},
	"damaged.unfinished":         {"il n'a pas d'en-tête « moov » : le fichier est coupé, ou l'enregistreur n'a pas fini de l'écrire", "it has no “moov” header: the file is cut, or the recorder did not finish writing it"},
	"damaged.no_audio":           {"il ne contient aucun son", "it holds no sound"},
	"damaged.low_rate":           {"sa fréquence d'échantillonnage est de %d Hz, sous les %d Hz qu'accepte antenne", "its sample rate is %d Hz, under the %d Hz antenne accepts"},
	"damaged.id3_too_big":        {"son étiquette ID3 annonce %d octets, plus que les %d octets du fichier", "its ID3 tag claims %d bytes, more than the %d bytes of the file"},
	"damaged.id3_frames":         {"son étiquette ID3 a plus de %d champs ; enlevez les étiquettes superflues (avec Kid3 ou Picard) et renvoyez-le", "its ID3 tag has more than %d frames; remove the needless tags (with Kid3 or Picard) and upload it again"},
	"damaged.id3_same_frames":    {"son étiquette ID3 a plus de %d champs %s ; enlevez les étiquettes superflues (avec Kid3 ou Picard) et renvoyez-le", "its ID3 tag has more than %d %s frames; remove the needless tags (with Kid3 or Picard) and upload it again"},
	"error.ffmpeg":               {"Ce format doit être converti en MP3, mais ffmpeg n'est pas installé sur le serveur. Envoyez un MP3 ou un M4A, ou prévenez l'administrateur.", "This format must be converted to MP3, but ffmpeg is not installed on the server. Upload an MP3 or an M4A, or tell the administrator."},
	"error.silent":               {"Cet enregistrement est silencieux : il n'y a rien à mettre au niveau sonore d'un podcast. Vérifiez le fichier envoyé.", "This recording is silent: there is nothing to bring to a podcast's loudness. Check the file you sent."},
	"error.toolarge":             {"Le fichier est trop gros (au plus %s).", "The file is too large (at most %s)."},
	"error.bodystalled":          {"L'envoi s'est interrompu : plus rien n'arrivait. Vérifiez la connexion et recommencez.", "The upload stalled: nothing arrived any more. Check the connection and try again."},
	"error.bodycut":              {"L'envoi a été coupé avant la fin. Recommencez.", "The upload was cut before its end. Try again."},
	"error.semester":             {"Semestre inconnu %q : écrivez A ou P puis l'année, comme A20, P21 ou A2020.", "Unknown semester %q: use A or P then the year, like A20, P21 or A2020."},
	"error.unavailable":          {"Le stockage est indisponible, réessayez dans quelques minutes.", "The storage is unavailable, try again in a few minutes."},
	"error.internal":             {"Une erreur interne est survenue. Elle a été consignée ; réessayez plus tard.", "An internal error occurred. It was logged; try again later."},
	"error.timeout":              {"Le serveur a mis trop de temps à répondre. Réessayez.", "The server took too long to answer. Try again."},
	"error.transcript.type":      {"La transcription doit être un fichier WebVTT (.vtt) ou SRT (.srt).", "The transcript must be a WebVTT (.vtt) or SRT (.srt) file."},
	"error.transcript.empty":     {"Le fichier de transcription est vide.", "The transcript file is empty."},
	"error.transcript.too_large": {"Le fichier de transcription dépasse %s.", "The transcript file is larger than %s."},
	"error.transcript.encoding":  {"Le fichier de transcription n'est pas en UTF-8 : enregistrez-le en UTF-8 et réessayez.", "The transcript file is not UTF-8: save it as UTF-8 and try again."},
	"error.transcript.header":    {"Ce fichier WebVTT ne commence pas par la ligne WEBVTT (ligne %d).", "This WebVTT file does not start with the line WEBVTT (line %d)."},
	"error.transcript.timing":    {"Ligne %d : minutage illisible. Écrivez-le comme 00:01:02.500 --> 00:01:05.000 (WebVTT) ou 00:01:02,500 --> 00:01:05,000 (SRT).", "Line %d: unreadable timing. Write it like 00:01:02.500 --> 00:01:05.000 (WebVTT) or 00:01:02,500 --> 00:01:05,000 (SRT)."},
	"error.transcript.backwards": {"Ligne %d : ce passage finit avant de commencer. Vérifiez ses deux heures, la seconde vient après la première.", "Line %d: this cue ends before it starts. Check its two times, the second comes after the first."},
	"error.transcript.no_cue":    {"Le fichier ne contient aucun passage minuté.", "The file has no timed cue."},

	// Home.
	"home.title": {"Émissions", "Shows"},
	"home.empty": {"Aucune émission n'est encore publiée.", "No show is published yet."},

	// Show page.
	"show.episodes":             {"Épisodes", "Episodes"},
	"show.noepisodes":           {"Aucun épisode publié pour l'instant.", "No episode published yet."},
	"show.subscribe":            {"S'abonner", "Subscribe"},
	"show.rss":                  {"Flux RSS", "RSS feed"},
	"show.rss.help":             {"Copiez cette adresse dans votre application de podcasts :", "Copy this address into your podcast app:"},
	"show.apps":                 {"Ouvrir dans une application", "Open in an app"},
	"show.app.other":            {"Autre application (podcast://)", "Other app (podcast://)"},
	"show.airslot":              {"À l'antenne les %s à %s", "On air on %s at %s"},
	"show.airslot.on":           {"sur %s", "on %s"},
	"show.live":                 {"En direct", "Live now"},
	"show.live.on":              {"En direct sur %s", "Live on %s"},
	"show.live.play":            {"Le direct se lance quand vous appuyez sur lecture.", "The live stream starts when you press play."},
	"show.live.link":            {"Ouvrir le flux du direct", "Open the live stream"},
	"show.next.broadcast":       {"Prochaine émission : %s à %s", "Next broadcast: %s at %s"},
	"show.website":              {"Site web", "Website"},
	"show.fediverse":            {"Sur le fédivers (Mastodon…)", "On the fediverse (Mastodon…)"},
	"show.fediverse.help":       {"Suivez l'émission depuis votre compte Mastodon (ou tout autre serveur du fédivers) : collez cette adresse dans la recherche de votre serveur, puis cliquez sur « Suivre ». Chaque nouvel épisode apparaîtra dans votre fil, prêt à écouter.", "Follow the show from your Mastodon account (or any fediverse server): paste this address into your server's search, then click \"Follow\". Each new episode will appear in your timeline, ready to play."},
	"show.fediverse.handle":     {"Adresse à suivre :", "Address to follow:"},
	"show.hosts":                {"Animé par", "Hosted by"},
	"show.artwork":              {"Illustration de l'émission %s", "Artwork of the show %s"},
	"show.page":                 {"Page %d sur %d", "Page %d of %d"},
	"show.prev":                 {"Épisodes plus récents", "Newer episodes"},
	"show.next":                 {"Épisodes plus anciens", "Older episodes"},
	"show.pagination":           {"Pages d'épisodes", "Episode pages"},
	"show.license":              {"Licence : %s", "License: %s"},
	"show.support":              {"Soutenir l'émission", "Support the show"},
	"show.seasons":              {"Thèmes par semestre", "Themes by semester"},
	"episode.aired":             {"Diffusé le %s", "Aired on %s"},
	"episode.published":         {"Publié le %s", "Published on %s"},
	"episode.duration":          {"Durée : %s", "Duration: %s"},
	"episode.player":            {"Lecteur audio de l'épisode %s", "Audio player of the episode %s"},
	"episode.nosupport":         {"Votre navigateur ne lit pas l'audio intégré.", "Your browser cannot play embedded audio."},
	"episode.download":          {"Télécharger l'épisode (%s, %s)", "Download the episode (%s, %s)"},
	"episode.original":          {"Télécharger l'enregistrement d'origine", "Download the original recording"},
	"episode.chapters":          {"Chapitres", "Chapters"},
	"episode.notes":             {"Notes de l'épisode", "Show notes"},
	"episode.persons":           {"Participants", "Participants"},
	"episode.hosts":             {"Animation", "Hosts"},
	"episode.guests":            {"Invités", "Guests"},
	"episode.transcript":        {"Transcription", "Transcript"},
	"episode.transcript.follow": {"Le passage en cours d'écoute est surligné ; cliquez sur une heure pour y aller.", "The passage being played is highlighted; click a time to go there."},
	"episode.transcript.cut":    {"La transcription continue : lisez-la en entier dans le fichier.", "The transcript goes on: read it whole in the file."},
	"episode.embed":             {"Intégrer ce lecteur", "Embed this player"},
	"episode.embed.help":        {"Copiez ce code dans votre page :", "Copy this code into your page:"},
	"episode.back":              {"Tous les épisodes de %s", "All episodes of %s"},
	"episode.season":            {"Saison %d", "Season %d"},
	"episode.number":            {"Épisode %d", "Episode %d"},
	"episode.artwork":           {"Illustration de l'épisode %s", "Artwork of the episode %s"},
	"episode.listen":            {"Écouter sur %s", "Listen on %s"},
	"episode.seekto":            {"Aller à %s", "Go to %s"},
}

// tr translates key into lang, formatting args into it when given. A
// text that counts something holds its singular and plural forms
// separated by "|", and its first argument is the count: the form is
// chosen by plural, never written out by hand.
func tr(lang, key string, args ...any) string {
	m, ok := lookup(key)
	if !ok {
		return key
	}
	s := m[0]
	if lang == langEN && m[1] != "" {
		s = m[1]
	}
	if one, many, ok := strings.Cut(s, "|"); ok {
		s = many
		if len(args) > 0 && !plural(lang, args[0]) {
			s = one
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// lookup finds key in the catalogue: the pages' messages, the studio's,
// then the command line's.
func lookup(key string) ([2]string, bool) {
	for _, cat := range []map[string][2]string{messages, studioMessages, cliMessages, repliesMessages} {
		if m, ok := cat[key]; ok {
			return m, true
		}
	}
	return [2]string{}, false
}

// plural reports whether the count n takes the plural in lang: in French
// from 2 on (« 0 épisode », « 1 épisode », « 2 épisodes »), in English
// for every count but 1. A value that is not an integer takes the plural.
func plural(lang string, n any) bool {
	var v int64
	switch n := n.(type) {
	case int:
		v = int64(n)
	case int64:
		v = n
	default:
		return true
	}
	if lang == langEN {
		return v != 1
	}
	return v < -1 || v > 1
}

// longDate writes a date the way people read it: "vendredi 2 octobre 2020"
// in French ("1er" for the first of the month), "Friday 2 October 2020" in
// English. The date is read in loc.
func longDate(lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(loc)
	if lang == langEN {
		return t.Format("Monday 2 January 2006")
	}
	day := fmt.Sprint(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %s %d", episodes.FrenchWeekday(t.Weekday()), day, episodes.FrenchMonth(t.Month()), t.Year())
}

// dayName is a day of the week in lang: "vendredi", "Friday".
func dayName(lang string, d time.Weekday) string {
	if lang == langEN {
		return d.String()
	}
	return episodes.FrenchWeekday(d)
}

// weekdayName is a day of the week in lang, as in "every Friday":
// "vendredis", "Fridays".
func weekdayName(lang string, d time.Weekday) string { return dayName(lang, d) + "s" }

// humanSize writes a byte count in binary units, the ones the
// configuration takes (ANTENNE_MAX_UPLOAD=2GiB): "12,3 Mio" in French,
// "12.3 MiB" in English, and "2 Gio" rather than "2,0 Gio". studio.js
// writes sizes the same way.
func humanSize(lang string, n int64) string {
	units := [...][2]string{{"o", "B"}, {"Kio", "KiB"}, {"Mio", "MiB"}, {"Gio", "GiB"}, {"Tio", "TiB"}}
	u := 0
	f := float64(n)
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	unit := units[u][0]
	if lang == langEN {
		unit = units[u][1]
	}
	var s string
	if u == 0 {
		s = fmt.Sprintf("%d", n)
	} else {
		s = strings.TrimSuffix(fmt.Sprintf("%.1f", f), ".0")
		if lang != langEN {
			s = strings.Replace(s, ".", ",", 1)
		}
	}
	return s + "\u00a0" + unit
}
