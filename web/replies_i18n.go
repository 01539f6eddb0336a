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

	"replies.studio":        {"Réponses des auditeurs", "Listeners' replies"},
	"replies.studio.intro":  {"Les réponses publiques du fédivers à la publication de chaque épisode. Masquées, en attente ou d'un compte bloqué, elles n'apparaissent ni sur la page de l'épisode ni dans le fil.", "Public fediverse replies to each episode's post. Hidden, pending or from a blocked account, they show neither on the episode's page nor in the thread."},
	"replies.approval":      {"Afficher les réponses seulement après approbation", "Show replies only once approved"},
	"replies.save":          {"Enregistrer", "Save"},
	"replies.approve":       {"Approuver", "Approve"},
	"replies.hide":          {"Masquer", "Hide"},
	"replies.unhide":        {"Afficher", "Show"},
	"replies.block.account": {"Bloquer ce compte", "Block this account"},
	"replies.block.domain":  {"Bloquer le serveur %s", "Block the server %s"},
	"replies.blocked":       {"Comptes et serveurs bloqués", "Blocked accounts and servers"},
	"replies.blocked.none":  {"Aucun.", "None."},
	"replies.unblock":       {"Débloquer", "Unblock"},
	"replies.block.add":     {"Bloquer un compte (adresse https://…) ou un serveur (nom de domaine)", "Block an account (https://… address) or a server (domain name)"},
	"replies.block":         {"Bloquer", "Block"},
	"replies.state.hidden":  {"masquée", "hidden"},
	"replies.state.pending": {"en attente", "pending"},
	"replies.state.blocked": {"compte bloqué", "account blocked"},
	"replies.studio.none":   {"Pas encore de réponse aux épisodes.", "No replies to the episodes yet."},
	"replies.error":         {"L'action n'a pas pu être faite : réessayez.", "The action could not be done: try again."},
}
