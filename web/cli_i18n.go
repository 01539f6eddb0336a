package web

import "strings"

// The command line speaks the catalogue's languages too: French when the
// environment's locale is French, English otherwise. Its texts are in
// cliMessages, looked up by the same tr as the pages' and the studio's,
// so that a word is translated once for all three.

// LangFromEnv is the language of the command line: French when the
// first of LC_ALL, LC_MESSAGES and LANG that is set names a French
// locale (fr_FR.UTF-8, fr_BE...), English otherwise. LANGUAGE, a list of
// preferences, is read first when the locale is not C or POSIX, as
// gettext does.
func LangFromEnv(getenv func(string) string) string {
	locale := ""
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if locale = getenv(v); locale != "" {
			break
		}
	}
	if locale == "" || locale == "C" || strings.HasPrefix(locale, "C.") || locale == "POSIX" {
		return langEN
	}
	if list := getenv("LANGUAGE"); list != "" {
		locale, _, _ = strings.Cut(list, ":")
	}
	if strings.HasPrefix(strings.ToLower(locale), "fr") {
		return langFR
	}
	return langEN
}

// Message is the catalogue's text for key in lang ("fr" or "en"),
// formatted with args, for the command line. A key the catalogue lacks
// is returned as it is.
func Message(lang, key string, args ...any) string { return tr(lang, key, args...) }

// HasMessage reports whether the catalogue has key.
func HasMessage(key string) bool {
	_, ok := lookup(key)
	return ok
}

// cliMessages is the catalogue of the command line: French, then English.
var cliMessages = map[string][2]string{
	"cli.help.intro":        {"antenne publie une émission de radio en podcast.\n\nusage : antenne COMMANDE [ARGUMENTS]\n\ncommandes :\n", "antenne publishes a radio show as a podcast.\n\nusage: antenne COMMAND [ARGUMENTS]\n\ncommands:\n"},
	"cli.help.outro":        {"\nLancez `antenne help COMMANDE` pour l'usage d'une commande.\nLa configuration vient des variables d'environnement ANTENNE_* ; voir `antenne help serve`.\n", "\nRun `antenne help COMMAND` for the usage of one command.\nConfiguration comes from ANTENNE_* environment variables; see `antenne help serve`.\n"},
	"cli.cmd.serve":         {"servir le flux, les fichiers, les pages et le studio en HTTP", "serve the feed, the media, the pages and the studio over HTTP"},
	"cli.cmd.publish":       {"envoyer un enregistrement et le publier (maintenant, plus tard, ou en brouillon)", "upload a recording and publish it (now, later, or as a draft)"},
	"cli.cmd.import":        {"amener ici un podcast publié ailleurs, avec ses épisodes et ses abonnés", "move a podcast published elsewhere to antenne, keeping its episodes and subscribers"},
	"cli.cmd.shows":         {"créer, lister et modifier les émissions", "create, list and edit shows"},
	"cli.cmd.episodes":      {"lister, afficher, publier, programmer, dépublier et supprimer des épisodes", "list, show, publish, schedule, unpublish and delete episodes"},
	"cli.cmd.themes":        {"lister les thèmes des épisodes d'un semestre, pour le bilan de l'association", "list the themes of a semester's episodes, for the association's report"},
	"cli.cmd.hosts":         {"gérer les comptes des animateurs et leurs jetons d'API", "manage the hosts' accounts and API tokens"},
	"cli.cmd.check":         {"vérifier le stockage (documents, fichiers, tailles, empreintes, adresses, orphelins) et si chaque émission est prête pour les annuaires", "verify the bucket (documents, objects, sizes, hashes, slugs, orphans) and whether each show is ready for the directories"},
	"cli.cmd.version":       {"afficher la version d'antenne", "print the version of antenne"},
	"cli.cmd.probe":         {"montrer ce qu'antenne lit d'un enregistrement", "show what antenne reads from recordings"},
	"cli.cmd.help":          {"montrer les commandes, ou l'usage de l'une d'elles", "show the commands, or the usage of one"},
	"cli.unknown":           {"commande inconnue %q ; lancez `antenne help` pour la liste", "unknown command %q; run `antenne help` for the list"},
	"cli.progress":          {"%-12s [%s] %3.0f %%  encore %s", "%-12s [%s] %3.0f%%  %s left"},
	"cli.stage.uploading":   {"envoi", "uploading"},
	"cli.stage.processing":  {"traitement", "processing"},
	"cli.stage.checking":    {"vérification", "checking"},
	"cli.stage.reading":     {"lecture", "reading"},
	"cli.stage.measuring":   {"mesure", "measuring"},
	"cli.stage.transcoding": {"conversion", "transcoding"},
	"cli.stage.storing":     {"stockage", "storing"},
	"cli.check.counts":      {"émissions : %d, épisodes : %d, fichiers vérifiés : %d", "%d shows, %d episodes, %d objects checked"},
	"cli.check.ok":          {"tout va bien", "ok"},
	"cli.check.ready":       {"%s : prête pour Apple Podcasts et Spotify", "%s: ready for Apple Podcasts and Spotify"},
	"cli.check.notready":    {"%s : pas encore prête pour Apple Podcasts et Spotify, il manque :", "%s: not yet ready for Apple Podcasts and Spotify, it lacks:"},
	"cli.check.item":        {"  - %s : %s", "  - %s: %s"},
	"cli.check.fix":         {"  (à compléter dans le studio, Réglages de l'émission, ou avec antenne shows edit %s)", "  (complete it in the studio's show settings, or with antenne shows edit %s)"},
	"cli.publish.done":      {"%s : « %s » (%s) en %s", "%s %q (%s) in %s"},
	"cli.publish.received":  {"« %s » reçu ; le serveur le traite", "%q received; the server is processing it"},
	"cli.publish.published": {"« %s » publié (%s)", "published %q (%s)"},
	"cli.publish.scheduled": {"« %s » sera publié le %s", "%q will be published on %s"},
	"cli.publish.draft":     {"brouillon « %s » enregistré ; publiez-le avec `antenne episodes publish %s`", "draft %q saved; publish it with `antenne episodes publish %s`"},
	"cli.status.published":  {"publié", "published"},
	"cli.status.scheduled":  {"programmé", "scheduled"},
	"cli.status.draft":      {"brouillon", "draft"},
	"cli.status.processing": {"en traitement", "processing"},
	"cli.status.failed":     {"échec du traitement", "processing failed"},
}
