package web

// repliesMessages is the catalogue of the replies an episode's page
// shows (listeners' fediverse replies), looked up by tr: French, then
// English.
var repliesMessages = map[string][2]string{
	"replies.title":   {"Réponses du fédivers", "Replies from the fediverse"},
	"replies.counts":  {"J'aime : %d · partages : %d", "Likes: %d · boosts: %d"},
	"replies.none":    {"Pas encore de réponse.", "No replies yet."},
	"replies.edited":  {"modifié", "edited"},
	"replies.by":      {"Réponse de %s", "Reply by %s"},
	"replies.how":     {"Répondre depuis le fédivers", "Reply from the fediverse"},
	"replies.how.1":   {"Depuis votre compte Mastodon (ou de tout autre serveur du fédivers), cherchez le compte %s et abonnez-vous : chaque épisode y est publié.", "From your Mastodon account (or one on any fediverse server), search for the account %s and follow it: each episode is posted there."},
	"replies.how.2":   {"Pour retrouver la publication de cet épisode, collez son adresse dans la recherche de votre serveur :", "To find this episode's post, paste its address into your server's search:"},
	"replies.how.3":   {"Répondez-y publiquement : votre réponse s'affiche ici, avec votre nom et votre pseudo. Supprimez-la de votre compte et elle disparaît d'ici aussi.", "Reply to it publicly: your reply shows here, with your name and handle. Delete it from your account and it goes from here too."},
	"replies.profile": {"Profil de %s sur son serveur", "Profile of %s on their server"},
}
